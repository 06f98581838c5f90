"""Outages lose nothing: PostgreSQL, nats-server or both down for longer than the whole retry
budget while supply commands, deliveries, payments and expiry schedules are in flight (a payment
taken while NATS is down waits in the payments outbox; one tried while PostgreSQL is down is a 503,
and the same request again afterwards is refused or refunded if the order expired meanwhile). The saga
pauses and then finishes: every order reaches its proper state, no message reaches the dead-letter
stream, every invariant holds, and during a database outage the APIs answer 503 with Retry-After.

The retry budget is shortened by settings (two deliveries, 50 ms apart): an outage that cost
deliveries would dead-letter its messages in a tenth of a second. The outages last until the
services have probed the dead dependency five times (about nine seconds, longer than the ack wait
too), read from their own metrics: a condition, not a sleep. PostgreSQL runs with its default
durability here: with the suite's fast settings a SIGKILL loses commits still in the WAL buffers,
which is not the outage under test.
"""

from __future__ import annotations

import re
import signal
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from brigade_common.devservers import NatsServer, PostgresServer, free_port
from brigade_common.dlq import read_dead_letters
from brigade_common.jetstream import connect
from tests.e2e.client import money_settled, order, pay, pay_until_answered, wait_status
from tests.e2e.harness import Stack, eventually
from tests.e2e.reconcile import reconcile

BUDGET = {
    f"{svc}_{key}": value
    for svc in ("KITCHEN", "WAREHOUSE", "PAYMENTS")
    for key, value in {"CONSUMER_MAX_DELIVER": "2", "CONSUMER_BACKOFF_S": "[0.05]", "ACK_WAIT_S": "3"}.items()
}
SETTINGS = {
    **BUDGET,
    "MARKET_SEED": "7",
    "MARKET_LATENCY_MS": "100",
    "WAREHOUSE_MARKET_RETRY_S": "0.05",
    "KITCHEN_ORDER_WAIT_S": "0.2",
    "KITCHEN_PAYMENT_WINDOW_S": "3",
    "KITCHEN_SWEEP_S": "1",
}
SETTLED = {"served", "expired", "failed", "cancelled"}
PAY_KEY = "pay-the-paid-one"
# Probes back off 0.2, 0.5, 1, 2, 5 s: five of them is ~9 s down, the budget ~0.05 s, the ack wait 3 s.
PROBES = 5


@pytest.fixture
def durable_pg() -> Iterator[PostgresServer]:
    with tempfile.TemporaryDirectory(prefix="brigade-outage-pg-") as root:
        server = PostgresServer(Path(root) / "data", free_port(), log_file=Path(root) / "pg.log")
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
async def outage_stack(durable_pg: PostgresServer, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Stack]:
    admin = await asyncpg.connect(durable_pg.url)
    await admin.execute("CREATE DATABASE brigade")
    await admin.close()
    stack = Stack(durable_pg.url_for("brigade"), nats_server.url, tmp_path, dict(SETTINGS))
    await stack.prepare()
    try:
        await stack.start()
        yield stack
    finally:
        stack.stop()
        print(stack.logs())


async def probes(http: httpx.AsyncClient, stack: Stack, service: str, dependency: str) -> float:
    text = (await http.get(f"{stack.url(service)}/metrics")).text
    pattern = rf'^brigade_dependency_probes_total{{dependency="{dependency}",service="{service}"}} ([0-9.e+]+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def probed_many_times(http: httpx.AsyncClient, stack: Stack, dependency: str) -> None:
    """Both services have seen `dependency` down and probed it `PROBES` times: far past the budget."""
    start = {s: await probes(http, stack, s, dependency) for s in ("kitchen", "warehouse")}

    async def enough() -> bool:
        for service, before in start.items():
            if await probes(http, stack, service, dependency) - before < PROBES:
                return False
        return True

    await eventually(enough, 60, f"{PROBES} probes of the {dependency} by kitchen and warehouse")


async def in_flight(http: httpx.AsyncClient, stack: Stack) -> dict[str, dict[str, Any]]:
    """Orders at every step of the saga: two reserved from the pantry (their expiry schedules fire
    during the outage; one gets paid during it), two waiting for the warehouse, which buys."""
    placed = {}
    for name, dish, quantity in (
        ("paid", "pan-simple", 1),
        ("unpaid", "pan-simple", 1),
        ("supplied-1", "ensalada-cesar", 1),
        ("supplied-2", "ensalada-cesar", 2),
    ):
        r = await order(http, stack, dish, quantity)
        assert r.status_code in (201, 202), r.text
        placed[name] = r.json()
    assert placed["paid"]["status"] == placed["unpaid"]["status"] == "reserved"
    return placed


async def the_end(http: httpx.AsyncClient, stack: Stack, placed: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Wait until every order is settled, and the paid one's money where it belongs (charged if it
    was served, refunded otherwise); their final states."""
    final = {
        name: (await wait_status(http, stack, o["order_id"], SETTLED, timeout=60))["status"]
        for name, o in placed.items()
    }
    await money_settled(http, stack, placed["paid"])
    return final


async def replica_holds(stack: Stack, placed: dict[str, Any]) -> None:
    """The payments service has heard of the order (NATS is about to go: it could not ask the kitchen)."""
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=1)
    assert pool is not None
    try:

        async def held() -> bool:
            status = await pool.fetchval(
                "SELECT status FROM payments.orders WHERE order_id = $1::uuid", placed["order_id"]
            )
            return bool(status == "reserved")

        await eventually(held, 10, "the payments replica holding the order")
    finally:
        await pool.close()


async def dead_letters(stack: Stack) -> list[Any]:
    nc = await connect(stack.nats_url, name="test")
    try:
        return await read_dead_letters(nc.jetstream())
    finally:
        await nc.drain()


async def kill_postgres(pg: PostgresServer) -> None:
    assert pg.proc is not None
    pg.proc.send_signal(signal.SIGKILL)
    pg.proc.wait(10)


async def answered_503_with_retry_after(http: httpx.AsyncClient, stack: Stack, paid: dict[str, Any]) -> None:
    """What the APIs say while the database is down: 503, Retry-After, which dependency, nothing written."""
    for r in (await order(http, stack, "pan-simple"), await pay(http, stack, paid, key=PAY_KEY)):
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5"
        body = r.json()
        assert body["type"].endswith("/dependency-unavailable") and body["dependency"] == "database"
    for path in ("/api/kitchen/pantry", "/api/kitchen/dishes/today"):
        got = await http.get(f"{stack.url('kitchen')}{path}", headers=stack.staff())
        assert got.status_code == 503 and got.headers["retry-after"] == "5"
    assert (await http.get(f"{stack.url('warehouse')}/api/warehouse/stock", headers=stack.staff())).status_code == 503
    ready = await http.get(f"{stack.url('kitchen')}/readyz")
    assert ready.status_code == 503 and "database" in ready.text


async def test_a_database_outage_longer_than_the_retry_budget_pauses_the_saga_and_loses_nothing(
    outage_stack: Stack, durable_pg: PostgresServer, http: httpx.AsyncClient
) -> None:
    stack = outage_stack
    placed = await in_flight(http, stack)
    await kill_postgres(durable_pg)
    await probed_many_times(http, stack, "database")
    # The customer pays meanwhile: 503, nothing charged; the same request again once it is back.
    await answered_503_with_retry_after(http, stack, placed["paid"])
    durable_pg.start()
    assert (await pay_until_answered(http, stack, placed["paid"], PAY_KEY)).status_code in (201, 409)
    final = await the_end(http, stack, placed)
    # The order's expiry check was held through the outage and the payment came after it: it was
    # refused (409) or, charged before the payments service heard of the expiry, refunded.
    assert final["paid"] in {"served", "expired"}
    assert {k: v for k, v in final.items() if k != "paid"} == {
        "unpaid": "expired",
        "supplied-1": "expired",
        "supplied-2": "expired",
    }
    assert await dead_letters(stack) == []
    await check(stack)


async def test_a_nats_outage_pauses_the_saga_and_loses_nothing(
    outage_stack: Stack, nats_server: NatsServer, http: httpx.AsyncClient
) -> None:
    stack = outage_stack
    placed = await in_flight(http, stack)
    await replica_holds(stack, placed["paid"])
    nats_server.kill()
    # Orders and payments are still taken while NATS is down: their messages wait in the outboxes.
    during = await order(http, stack, "ensalada-cesar")
    assert during.status_code == 202 and during.json()["status"] == "pending"
    placed["placed-during"] = during.json()
    assert (await pay(http, stack, placed["paid"])).status_code == 201
    await probed_many_times(http, stack, "nats")
    nats_server.start()  # same port, same store: streams, consumers and schedules survive
    final = await the_end(http, stack, placed)
    assert final["paid"] in {"served", "expired"} and final["unpaid"] == "expired"
    assert {final[k] for k in ("supplied-1", "supplied-2", "placed-during")} == {"expired"}
    assert await dead_letters(stack) == []
    await check(stack)


async def test_both_down_at_once_lose_nothing(
    outage_stack: Stack, durable_pg: PostgresServer, nats_server: NatsServer, http: httpx.AsyncClient
) -> None:
    stack = outage_stack
    placed = await in_flight(http, stack)
    await kill_postgres(durable_pg)
    nats_server.kill()
    await probed_many_times(http, stack, "nats")
    await answered_503_with_retry_after(http, stack, placed["paid"])
    nats_server.start()
    durable_pg.start()
    assert (await pay_until_answered(http, stack, placed["paid"], PAY_KEY)).status_code in (201, 409)
    final = await the_end(http, stack, placed)
    assert final["paid"] in {"served", "expired"} and final["unpaid"] == "expired"
    assert await dead_letters(stack) == []
    await check(stack)


async def check(stack: Stack) -> None:
    """Every invariant of DESIGN §3, and no order waiting past its deadline."""
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        await reconcile(pool)
        overdue = await pool.fetchval(
            "SELECT count(*) FROM kitchen.orders WHERE status IN ('pending', 'reserved') AND expires_at < now()"
        )
        assert overdue == 0
    finally:
        await pool.close()
