"""The stack under load: the e2e harness's real service processes plus the `web` gateway in front,
routing /api/<service> from infra/helm/brigade/routes.yaml exactly as the ingress does."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import httpx

from brigade_devstack.demo_users import demo_user, users_file
from brigade_devstack.layout import Layout
from tests.e2e.harness import ROOT, Stack

ROUTES_FILE = ROOT / "infra/helm/brigade/routes.yaml"


async def start_with_gateway(stack: Stack) -> str:
    """Start the services (those not running yet), then the gateway in front of them; returns the
    gateway's base URL."""
    gateway = stack.catalog.gateway
    assert gateway is not None, "the catalog has no gateway service"
    names = [s.name for s in stack.catalog.backends]
    missing = [name for name in names if name not in stack.services]
    if missing:
        await stack.start(*missing)
    prefix = gateway.env_prefix
    stack.overrides[f"{prefix}UPSTREAMS"] = json.dumps({name: stack.url(name) for name in names})
    stack.overrides[f"{prefix}ROUTES_FILE"] = str(ROUTES_FILE)
    await stack.start(gateway.name)
    return stack.url(gateway.name)


# The staff account of the load: roles are an admin's to give, so the auth service's `seed` provides it.
STAFF_EMAIL = "load-staff@example.com"
STAFF_PASSWORD = "the load's staff password"


def signing_in_through_auth(stack: Stack) -> Stack:
    """`stack` as `make up` runs: no fixed JWKS (each service asks auth for its keys over NATS), and
    the load's staff account among auth's seeded users."""
    stack.jwks = ""  # an empty JWT_PUBLIC_KEYS: the auth service's keys
    staff = {"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "display_name": "Load staff", "roles": ["staff"]}
    stack.overrides.setdefault("AUTH_DEMO_USERS", json.dumps([staff]))
    return stack


def load_env(stack: Stack) -> dict[str, str]:
    """The locustfile's settings: customers sign up and in by themselves, staff with the seeded account."""
    return {"LOAD_STAFF_EMAIL": STAFF_EMAIL, "LOAD_STAFF_PASSWORD": STAFF_PASSWORD}


def make_up_staff() -> dict[str, str]:
    """LOAD_STAFF_* for `make up`'s demo staff user (.brigade/users.json), unless already set."""
    if os.environ.get("LOAD_STAFF_EMAIL"):
        return {}
    layout = Layout.discover()
    if not users_file(layout).exists():
        return {}
    staff = demo_user(layout, "staff")
    return {"LOAD_STAFF_EMAIL": staff.email, "LOAD_STAFF_PASSWORD": staff.password}


async def signed_in(host: str) -> dict[str, str]:
    """`Authorization` headers of a customer signed up and in through the gateway at `host`."""
    email, password = f"probe-{uuid.uuid4().hex[:12]}@example.com", "the outage probe's password"
    async with httpx.AsyncClient(base_url=host, timeout=30) as client:
        r = await client.post("/api/auth/signup", json={"email": email, "password": password, "display_name": "Probe"})
        assert r.status_code == 201, r.text
        r = await client.post("/api/auth/signin", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rss_kib(pid: int) -> int:
    """Resident memory of one process (0 when unknown)."""
    return _status_kib(pid, "VmRSS")


def pss_kib(pids: list[int]) -> int:
    """Proportional set size summed over processes: shared pages (PostgreSQL's shared buffers) count once."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except (OSError, ValueError, IndexError):
            total += rss_kib(pid)
    return total
