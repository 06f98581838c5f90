"""The stack under load: the e2e harness's real service processes plus the `web` gateway in front,
routing /api/<service> from infra/helm/brigade/routes.yaml exactly as the ingress does."""

from __future__ import annotations

import json
from pathlib import Path

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


def load_env(stack: Stack) -> dict[str, str]:
    """The locustfile's settings to mint tokens the stack accepts (the harness signs with kid `test-key`)."""
    return {"LOAD_JWT_PRIVATE_KEY": stack.private_pem, "LOAD_JWT_KID": "test-key"}


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
