"""End to end: the real `python -m brigade_devstack up`, reached through the gateway, stopped with Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from brigade_common.envelope import Envelope
from brigade_common.jetstream import connect
from brigade_common.testing.waiting import eventually
from brigade_contracts.auth import USER_REGISTERED, Role, UserRegistered
from brigade_devstack.catalog import service_table
from brigade_devstack.mailbox import kept
from tools.devstack.tests.devstack_testing import alive, running_up

pytestmark = pytest.mark.slow


async def test_up_serves_through_the_gateway_and_stops_cleanly(tmp_path: Path) -> None:
    async with running_up(tmp_path) as up:
        running = up.pids()
        assert {"postgres", "nats", "mail", "web"} <= set(running)
        async with httpx.AsyncClient(base_url=up.gateway, timeout=10) as client:
            assert (await client.get("/readyz")).status_code == 200
            for name in set(running) & {s.name for s in service_table() if s.public and not s.gateway}:
                response = await client.get(f"/api/{name}/openapi.json")
                assert response.status_code == 200, (name, response.text)
        await _a_sign_up_is_welcomed_by_mail_in_the_catcher(up.nats_url, up.home / "mail")
    assert up.proc.returncode == 0, up.text[-4000:]
    assert "Brigade stopped" in up.text
    await eventually(
        lambda: not any(alive(pid) for pid in running.values()), timeout=5, what="every process of the stack to be gone"
    )


async def _a_sign_up_is_welcomed_by_mail_in_the_catcher(nats_url: str, mail: Path) -> None:
    """The notifications service of `make up` sends to the stack's mail catcher, which keeps it."""
    registered = UserRegistered(user_id="smoke", email="smoke@example.com", display_name="Smoke", roles=[Role.CUSTOMER])
    env = Envelope.wrap(USER_REGISTERED, registered)
    nc = await connect(nats_url, name="smoke")
    try:
        await nc.jetstream().publish(USER_REGISTERED, env.to_bytes(), headers=env.headers())
    finally:
        await nc.drain()
    await eventually(lambda: kept(mail), timeout=30, what="the welcome mail in the catcher's folder")
    assert [m.header("To") for m in kept(mail)] == ["smoke@example.com"]
