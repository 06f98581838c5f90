"""Two kitchen processes on one port (KITCHEN_REPLICAS=2), as two pods behind a Service: whichever
replica takes an order, whichever finishes it, the customer gets the answer; every message is handled
once, every outbox row published once, and losing a replica to SIGKILL loses nothing."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest

from tests.e2e.client import order, settled
from tests.e2e.harness import ServiceProcess, Stack, eventually, restart, running
from tests.e2e.reconcile import reconcile

DISH = "pan-simple"
PLENTY = ("jamon", "queso", "salsa_tomate", "mayonesa")  # from the pantry
SUPPLIED = "pan_canilla"  # from the warehouse, one supply request per order
ORDER_PATH = "/api/kitchen/orders"


@pytest.fixture
async def replicas(
    database_url: str, nats_url: str, tmp_path: Path, db: asyncpg.Pool, request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    """Market, warehouse and two kitchen replicas; each order waits for exactly one warehouse delivery,
    so the replica that handles the delivery is the one that finishes the order."""
    overrides = {
        "KITCHEN_REPLICAS": "2",
        "KITCHEN_ORDER_WAIT_S": "15",
        "KITCHEN_ACK_WAIT_S": "2",  # what a killed replica had fetched is redelivered soon
        "MARKET_SEED": "7",
    }
    stack = Stack(database_url, nats_url, tmp_path, overrides)
    try:
        async with running(stack, "market", "warehouse", "kitchen"):
            await one_delivery_per_order(db)
            yield stack
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(stack.logs())


async def set_balance(conn: asyncpg.Connection, table: str, ledger: str, ingredient: str, amount: int) -> None:
    """`ingredient`'s balance in `table` set to `amount`, with the seed movement in `ledger` that keeps them in step."""
    await conn.execute(f"INSERT INTO {table} (ingredient) VALUES ($1) ON CONFLICT DO NOTHING", ingredient)
    await conn.execute(
        f"INSERT INTO {ledger} (ingredient, delta, reason) "
        f"SELECT ingredient, $2 - on_hand, 'seed' FROM {table} WHERE ingredient = $1 AND on_hand <> $2",
        ingredient,
        amount,
    )
    await conn.execute(f"UPDATE {table} SET on_hand = $2 WHERE ingredient = $1", ingredient, amount)


async def one_delivery_per_order(db: asyncpg.Pool) -> None:
    """The pantry has plenty of the dish's ingredients but SUPPLIED, which only the warehouse has."""
    pantry, stock = ("kitchen.pantry", "kitchen.pantry_movements"), ("warehouse.stock", "warehouse.stock_movements")
    async with db.acquire() as conn, conn.transaction():
        for ingredient in PLENTY:
            await set_balance(conn, *pantry, ingredient, 10**6)
        await set_balance(conn, *pantry, SUPPLIED, 0)
        await set_balance(conn, *stock, SUPPLIED, 10**6)


async def deliveries_handled(process: ServiceProcess) -> float:
    return await process.metric("brigade_messages_total", consumer="kitchen-supply", outcome="ack")


async def order_at(http: httpx.AsyncClient, stack: Stack, base_url: str, key: str) -> httpx.Response:
    return await http.post(
        f"{base_url}{ORDER_PATH}",
        json={"dish_id": DISH, "quantity": 1},
        headers={**stack.auth(), "Idempotency-Key": key},
    )


async def kitchen_messages(nats_url: str) -> int:
    """How many of the kitchen's publications the broker took (a duplicate Nats-Msg-Id takes no
    sequence number): its events (the stream's last sequence, as its schedules do not stay stored)
    and its commands to the warehouse."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        events = (await js.stream_info("KITCHEN")).state.last_seq
        commands = (await js.stream_info("WAREHOUSE", subjects_filter="warehouse.cmd.>")).state.subjects or {}
        return int(events + sum(commands.values()))
    finally:
        await nc.drain()


async def drained(db: asyncpg.Pool) -> bool:
    return (
        await db.fetchval("SELECT (SELECT count(*) FROM kitchen.outbox) + (SELECT count(*) FROM warehouse.outbox)") == 0
    )


async def test_orders_are_answered_whichever_replica_finishes_them_and_nothing_is_done_twice(
    replicas: Stack, http: httpx.AsyncClient, db: asyncpg.Pool, nats_url: str
) -> None:
    one, two = replicas.replicas("kitchen")
    assert one.port == two.port
    ready = [(await http.get(f"{p.own_url}/readyz")).json() for p in (one, two)]
    assert [r["instance"] for r in ready] == ["kitchen-1", "kitchen-2"]

    # Orders taken by kitchen-1 alone (its own port) wait there, while the warehouse's deliveries go to
    # whichever replica fetches first: once kitchen-2 has handled one, it finished an order of kitchen-1's.
    answers: list[httpx.Response] = []
    for i in range(40):
        answers.append(await order_at(http, replicas, one.own_url, f"on-one-{i}"))
        if await deliveries_handled(two) > 0:
            break
    assert await deliveries_handled(two) > 0, "kitchen-2 never handled a delivery"
    assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
    assert {r.json()["status"] for r in answers} == {"reserved"}

    # Through the shared port the kernel spreads the connections over both replicas.
    shared = await asyncio.gather(
        *(order_at(http, replicas, replicas.url("kitchen"), f"shared-{i}") for i in range(16))
    )
    assert {r.status_code for r in shared} == {201}, [r.text for r in shared]
    assert {r.json()["status"] for r in shared} == {"reserved"}
    taken = [
        await p.metric("brigade_http_requests_total", method="POST", route=ORDER_PATH, status="201") for p in (one, two)
    ]
    assert taken[0] > 0 and taken[1] > 0, taken
    assert sum(taken) == len(answers) + len(shared)

    # Every command reached the warehouse once, every delivery was handled once, by one replica: the
    # acks of both add up to the inbox, and neither saw a duplicate.
    requests = len(answers) + len(shared)
    assert await db.fetchval("SELECT count(*) FROM kitchen.orders") == requests
    assert await db.fetchval("SELECT count(*) FROM kitchen.supply_requests") == requests
    assert await db.fetchval("SELECT count(*) FROM warehouse.supply_requests") == requests

    async def acked_once() -> bool:
        inbox = await db.fetchval("SELECT count(*) FROM kitchen.inbox WHERE consumer = 'kitchen-supply'")
        acks = [await deliveries_handled(p) for p in (one, two)]
        return inbox == requests and sum(acks) == requests

    await eventually(acked_once, 10, "each delivery acknowledged once")
    duplicates = [await p.metric("brigade_messages_total", outcome="duplicate") for p in (one, two)]
    assert duplicates == [0, 0]

    # Both relays emptied the outbox and no row went out twice: the broker keeps one message per row
    # (Nats-Msg-Id), so a row both relays sent would count twice in their totals and once in the stream.
    await eventually(lambda: drained(db), 10, "the outboxes emptied")
    published = [await p.metric("brigade_outbox_published_total", service="kitchen") for p in (one, two)]
    assert published[0] > 0 and published[1] > 0, published
    assert sum(published) == await kitchen_messages(nats_url)
    await reconcile(db)


async def test_a_replica_killed_while_the_other_serves_loses_no_order(
    replicas: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    one, two = replicas.replicas("kitchen")
    keys = [f"kill-{i}" for i in range(32)]
    answered: dict[str, httpx.Response] = {}
    retried: list[str] = []

    async def place(key: str) -> None:
        # A client of a Service: on a broken connection it sends the same request again, same key.
        async def answer() -> httpx.Response | None:
            try:
                r = await order(http, replicas, DISH, key=key)
            except httpx.TransportError:
                retried.append(key)
                return None
            return r

        answered[key] = await eventually(answer, 30, f"an answer to {key}")

    async def customer(mine: list[str]) -> None:
        for key in mine:
            await place(key)

    async def kill_two_mid_load() -> None:
        await eventually(lambda: len(answered) >= 8, 30, "the first orders answered")
        two.signal(signal.SIGKILL)

    await asyncio.gather(kill_two_mid_load(), *(customer(keys[i::4]) for i in range(4)))
    assert two.proc is not None and two.proc.returncode == -signal.SIGKILL
    assert one.proc is not None and one.proc.poll() is None  # the survivor served the rest alone
    assert {r.status_code for r in answered.values()} <= {201, 202}, [r.text for r in answered.values()]

    # Every order the customers were answered reaches its state, each once: no retry made a second one.
    finals = [await settled(http, replicas, r.json()["order_id"]) for r in answered.values()]
    assert {f["status"] for f in finals} == {"reserved"}
    assert await db.fetchval("SELECT count(*) FROM kitchen.orders") == len(keys)
    await eventually(lambda: drained(db), 15, "the outboxes emptied by the surviving relay")
    assert await db.fetchval("SELECT count(*) FROM kitchen.supply_requests") == len(keys)
    assert await db.fetchval("SELECT count(*) FROM warehouse.supply_requests") == len(keys)
    assert await db.fetchval("SELECT count(*) FROM kitchen.inbox WHERE consumer = 'kitchen-supply'") == len(keys)
    await reconcile(db)

    # The replica comes back and takes orders again.
    await restart(replicas, "kitchen-2")
    r = await order_at(http, replicas, two.own_url, "after-restart")
    assert r.status_code == 201 and r.json()["status"] == "reserved"
