"""Crashes and outages: nothing is lost, nothing is applied twice."""

from __future__ import annotations

import signal

import asyncpg
import httpx
import pytest

from brigade_common.devservers import NatsServer
from tests.e2e.client import order, pantry, settled, stock
from tests.e2e.harness import Stack, eventually, restart
from tests.e2e.reconcile import reconcile


@pytest.mark.stack_env(
    MARKET_LATENCY_MS="150",
    MARKET_MAX_UNITS="2",
    WAREHOUSE_ACK_WAIT_S="2",
    WAREHOUSE_SUPPLY_DEADLINE_S="60",
    KITCHEN_ORDER_WAIT_S="0.2",
)
async def test_warehouse_killed_mid_purchase_resumes_and_applies_nothing_twice(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    # Two salads' worth of lechuga is far more than the warehouse holds: it must buy, 0-2 at a time.
    r = await order(http, stack, "ensalada-cesar", 2)
    assert r.status_code == 202
    order_id = r.json()["order_id"]

    async def bought_some() -> int:
        return int(await db.fetchval("SELECT count(*) FROM warehouse.purchases WHERE received > 0"))

    await eventually(bought_some, 30, "a purchase")
    stack.services["warehouse"].signal(signal.SIGKILL)
    before = await db.fetchval("SELECT coalesce(sum(received), 0) FROM warehouse.purchases")
    await restart(stack, "warehouse")
    done = await settled(http, stack, order_id)
    assert done["status"] == "reserved", done
    # Purchases made before the crash were kept, and the request was delivered exactly once.
    after = await db.fetchval("SELECT coalesce(sum(received), 0) FROM warehouse.purchases")
    assert after >= before
    deliveries = await db.fetch(
        "SELECT request_id, count(*) FROM warehouse.stock_movements WHERE reason = 'supply' GROUP BY request_id"
    )
    assert deliveries and all(n == 1 for _, n in deliveries)
    await reconcile(db)


async def test_kitchen_killed_between_commit_and_publish_still_sends_its_command(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """Seed 004's lost-event bug: the command is committed with the order, so a crash cannot lose it."""
    kitchen = stack.services["kitchen"]
    kitchen.stop()
    await restart(stack, "kitchen", KITCHEN_OUTBOX_RELAY="false", KITCHEN_ORDER_WAIT_S="0.2")
    r = await order(http, stack, "ensalada-cesar")
    assert r.status_code == 202
    assert await db.fetchval("SELECT count(*) FROM kitchen.outbox WHERE subject = 'warehouse.cmd.supply.v1'") == 1
    assert await db.fetchval("SELECT count(*) FROM warehouse.supply_requests") == 0
    kitchen.signal(signal.SIGKILL)
    await restart(stack, "kitchen", KITCHEN_OUTBOX_RELAY="true")
    done = await settled(http, stack, r.json()["order_id"])
    assert done["status"] == "reserved"

    async def outbox_drained() -> bool:
        return await db.fetchval("SELECT count(*) FROM kitchen.outbox") == 0

    await eventually(outbox_drained, 15, "the kitchen outbox drained")
    assert await db.fetchval("SELECT count(*) FROM warehouse.supply_requests") == 1
    await reconcile(db)


@pytest.mark.stack_env(KITCHEN_ORDER_WAIT_S="0.2")
async def test_an_order_placed_while_the_warehouse_is_down_completes_when_it_returns(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """Seed 004's e2e: stop a service, post an order, restart it, expect the events in order."""
    stack.services["warehouse"].stop()
    r = await order(http, stack, "ensalada-cesar")
    assert r.status_code == 202 and r.json()["status"] == "pending"
    assert r.headers["location"].endswith(r.json()["order_id"])
    await restart(stack, "warehouse")
    done = await settled(http, stack, r.json()["order_id"])
    assert done["status"] == "reserved"
    assert (await stock(http, stack))["lechuga"] == 1
    assert (await pantry(http, stack))["lechuga"]["reserved"] == 5
    # The kitchen saw the order's events in order: placed (v1) then reserved (v2).
    versions = await db.fetch("SELECT version, status FROM kitchen.orders")
    assert [tuple(v) for v in versions] == [(2, "reserved")]
    await reconcile(db)


async def test_services_ride_out_a_nats_restart(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool, nats_server: NatsServer
) -> None:
    """Connections reconnect forever (nats-py gives up after ~2 minutes by default)."""
    nats_server.stop()
    nats_server.start()  # same port, same file store: streams and consumers survive
    r = await order(http, stack, "ensalada-cesar")
    assert r.status_code in (201, 202)
    done = await settled(http, stack, r.json()["order_id"])
    assert done["status"] == "reserved"
    await reconcile(db)
