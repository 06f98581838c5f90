"""End to end: `up` brings back a PostgreSQL or nats-server killed with SIGKILL, data and ports kept,
and the API takes orders again by itself."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import httpx
import nats
import pytest

from brigade_common.testing.waiting import eventually
from brigade_devstack.layout import Layout
from brigade_devstack.pgdata import users
from brigade_devstack.tokens import sign_in_token
from tools.devstack.tests.devstack_testing import REPO_ROOT, RunningUp, alive, running_up, zombies

pytestmark = pytest.mark.slow

# Its recipe needs more lettuce than the seeded pantry holds: a reserved one went through the warehouse
# over JetStream, not only through the kitchen's database.
DISH = "ensalada-cesar"


async def reserved_order(client: httpx.AsyncClient) -> str | None:
    """Place an order; its id once the kitchen holds it (`reserved`), None when the attempt failed."""
    try:
        placed = await client.post(
            "/api/kitchen/orders", json={"dish_id": DISH, "quantity": 1}, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        if placed.status_code not in (201, 202):
            return None
        order_id = str(placed.json()["order_id"])

        async def reserved() -> bool:
            got = await client.get(f"/api/kitchen/orders/{order_id}")
            return got.status_code == 200 and got.json()["status"] == "reserved"

        await eventually(reserved, timeout=20, what=f"order {order_id} reserved")
    except httpx.HTTPError:
        return None
    return order_id


async def stream_sequences(url: str) -> dict[str, int]:
    """Each JetStream stream's last sequence: it only goes back if the store was lost."""
    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
    try:
        return {info.config.name or "": info.state.last_seq for info in await nc.jetstream().streams_info()}
    finally:
        await nc.close()


async def kill_and_recover(up: RunningUp, client: httpx.AsyncClient, victims: list[str]) -> None:
    before = up.pids()
    for name in victims:
        os.kill(before[name], signal.SIGKILL)
    for name in victims:
        await eventually(
            lambda name=name: up.pids().get(name, before[name]) != before[name],
            timeout=30,
            what=f"{name} restarted",
        )
        assert not alive(before[name])
    assert await eventually(lambda: not zombies(up.proc.pid), timeout=5, what="no zombie child of up")
    await eventually(lambda: reserved_order(client), timeout=30, what=f"an order reserved after {victims} came back")


async def test_killed_postgres_and_nats_are_restarted_and_orders_go_through(tmp_path: Path) -> None:
    async with running_up(tmp_path) as up:
        layout = Layout(root=REPO_ROOT, home=up.home)
        token, _ = sign_in_token(layout, f"http://127.0.0.1:{up.ports['auth']}")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=up.gateway, headers=headers, timeout=15) as client:
            first = await reserved_order(client)
            assert first is not None, up.text[-4000:]
            sequences = await stream_sequences(up.nats_url)

            await kill_and_recover(up, client, ["postgres"])
            await kill_and_recover(up, client, ["nats"])
            await kill_and_recover(up, client, ["postgres", "nats"])

            # The same database and JetStream store, on the same ports.
            kept = await client.get(f"/api/kitchen/orders/{first}")
            assert kept.status_code == 200
            assert kept.json()["status"] == "reserved"
            after = await stream_sequences(up.nats_url)
            assert sequences
            assert all(after.get(name, 0) >= seq for name, seq in sequences.items()), (sequences, after)
        for name in ("postgres", "nats"):
            assert len(up.seen[name]) == 3  # the first run and two restarts, each known to the registry
            assert f"{name} exited (signal 9), restarting in 1.0 s (restart #1)" in up.text
            assert f"{name} exited (signal 9), restarting in 2.0 s (restart #2)" in up.text
            assert up.text.count(f"{name} is back") == 2

        # Ctrl-C (on leaving the block) while PostgreSQL is down, waiting out its back-off.
        os.kill(up.pids()["postgres"], signal.SIGKILL)
        await eventually(lambda: "restarting in 4.0 s (restart #3)" in up.text, what="postgres down, backing off")

    assert up.proc.returncode == 0, up.text[-4000:]
    assert "postgres is back" not in up.text.split("restart #3")[-1]
    every = {pid for pids in up.seen.values() for pid in pids}
    await eventually(lambda: not [pid for pid in every if alive(pid)], timeout=5, what="nothing of the stack left")
    assert users(up.home / "postgres") == [], "no backend outlives its postmaster"


async def test_a_nats_cluster_keeps_every_stream_on_three_servers_and_rides_out_losing_its_leader(
    tmp_path: Path,
) -> None:
    async with running_up(tmp_path, nats_nodes=3) as up:
        layout = Layout(root=REPO_ROOT, home=up.home)
        token, _ = sign_in_token(layout, f"http://127.0.0.1:{up.ports['auth']}")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=up.gateway, headers=headers, timeout=15) as client:
            assert await reserved_order(client) is not None, up.text[-4000:]
            nc = await nats.connect(up.nats_url, connect_timeout=2)
            try:
                info = await nc.jetstream().stream_info("KITCHEN")
            finally:
                await nc.close()
            assert info.config.num_replicas == 3
            assert info.cluster is not None and info.cluster.leader in up.pids()
            await kill_and_recover(up, client, [info.cluster.leader])
        assert f"{info.cluster.leader} exited (signal 9), restarting in 1.0 s (restart #1)" in up.text
    assert up.proc.returncode == 0, up.text[-4000:]
