"""End to end: the real `python -m brigade_devstack up`, reached through the gateway, stopped with Ctrl-C."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from brigade_common.testing.waiting import eventually
from brigade_devstack.catalog import service_table
from brigade_devstack.demo_users import load_users
from brigade_devstack.layout import Layout
from brigade_devstack.mailbox import kept
from brigade_devstack.tokens import sign_in_token
from tools.devstack.tests.devstack_testing import REPO_ROOT, RunningUp, alive, running_up

pytestmark = pytest.mark.slow


async def tokens_from_the_real_auth_service(up: RunningUp, client: httpx.AsyncClient) -> None:
    """`make token` signs the demo users in (their passwords in the banner), and another user up; the
    kitchen accepts those tokens with the auth service's keys: there is no key file."""
    layout = Layout(root=REPO_ROOT, home=up.home)
    url = f"http://127.0.0.1:{up.ports['auth']}"
    customer = load_users(layout)[0]
    assert f"{customer.email}  {customer.password}" in up.text
    assert not (up.home / "jwt").exists()

    async def me(**kwargs: str | None) -> dict[str, object]:
        token, _ = await asyncio.to_thread(sign_in_token, layout, url, **kwargs)
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/kitchen/orders", headers=headers)).status_code == 200
        got: dict[str, object] = (await client.get("/api/auth/me", headers=headers)).json()
        return got

    assert (await me())["email"] == "customer@example.com"
    assert (await me(role="staff"))["roles"] == ["customer", "staff"]
    alice = await me(who="alice", role="staff")
    assert (alice["email"], alice["roles"]) == ("alice@example.com", ["customer", "staff"])
    assert (await me(who="alice"))["id"] == alice["id"]


async def test_up_serves_through_the_gateway_and_stops_cleanly(tmp_path: Path) -> None:
    async with running_up(tmp_path) as up:
        running = up.pids()
        assert {"postgres", "nats", "mail", "web"} <= set(running)
        async with httpx.AsyncClient(base_url=up.gateway, timeout=10) as client:
            assert (await client.get("/readyz")).status_code == 200
            for name in set(running) & {s.name for s in service_table() if s.public and not s.gateway}:
                response = await client.get(f"/api/{name}/openapi.json")
                assert response.status_code == 200, (name, response.text)
            await tokens_from_the_real_auth_service(up, client)
        # alice signed up through auth just now: the notifications service of `make up` welcomed her
        # through the stack's mail catcher, which keeps what it receives.
        mail = up.home / "mail"

        def welcomed() -> bool:
            return "alice@example.com" in {m.header("To") for m in kept(mail)}

        await eventually(welcomed, timeout=30, what="alice's welcome mail in the catcher's folder")
    assert up.proc.returncode == 0, up.text[-4000:]
    assert "Brigade stopped" in up.text
    await eventually(
        lambda: not any(alive(pid) for pid in running.values()), timeout=5, what="every process of the stack to be gone"
    )
