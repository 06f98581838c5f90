"""One regression test per bug of seeds 000 and 004 (ORIGINALS.md) not already covered elsewhere.

Covered elsewhere: concurrent orders driving stock negative and lost updates (test_concurrency),
unknown dish crashing the handler and bad input (services/kitchen/tests/integration/test_http),
events lost when produce is not awaited before commit (test_chaos: kitchen killed between commit and
publish), a replay with a new event id processed twice (test_messages), a request hanging forever
without a timeout (kitchen test_http: 202 with a Location), flaky fixed-sleep waits (every wait here
polls a condition). Seed 001's payment bugs (the listener never registered, a completed or a
cancelled order charged) are in test_payments.
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from tests.e2e.client import order, pantry, settled, stock
from tests.e2e.harness import Stack, restart
from tests.e2e.reconcile import reconcile
from tests.e2e.test_messages import stream_envelopes


async def test_restarting_consumers_does_not_replay_history(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """Seed 000: random consumer groups reading from the beginning re-deducted stock on every restart."""
    first = await settled(http, stack, (await order(http, stack, "ensalada-cesar")).json()["order_id"])
    assert first["status"] == "reserved"
    before = await stock(http, stack)
    for name in ("warehouse", "kitchen"):
        stack.services[name].stop()
        await restart(stack, name)
    # A marker order through both consumers: once it is done, any replay would have happened first.
    marker = await settled(http, stack, (await order(http, stack, "pollo-plancha")).json()["order_id"])
    assert marker["status"] == "reserved"
    supplies = await db.fetch(
        "SELECT r.id, count(m.id) FROM warehouse.supply_requests r "
        "JOIN warehouse.stock_movements m ON m.request_id = r.id AND m.reason = 'supply' GROUP BY r.id"
    )
    assert all(n == 1 for _, n in supplies)
    after = await stock(http, stack)
    assert after["pollo"] == before["pollo"] - 2  # only the marker's pollo left the warehouse
    await reconcile(db)


@pytest.mark.stack_env(KITCHEN_ORDER_WAIT_S="60")
async def test_fast_warehouse_replies_are_never_missed(stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    """Seed 000: the waiter registered after sending, so a fast reply was lost and the request hung."""
    await db.execute("UPDATE warehouse.stock SET on_hand = on_hand + 1000 WHERE ingredient = 'lechuga'")
    await db.execute(
        "INSERT INTO warehouse.stock_movements (ingredient, delta, reason) VALUES ('lechuga', 1000, 'seed')"
    )
    # Each request may wait up to 60 s for its order; a missed reply would hold it that long. The
    # bound below is a liveness check (a hang), far above the milliseconds a settled order takes.
    async with asyncio.timeout(40):
        for _ in range(8):
            r = await order(http, stack, "ensalada-cesar")
            # Every one needs the warehouse, and every one is answered as soon as it is reserved.
            assert r.status_code == 201, r.text
            assert r.json()["status"] == "reserved"
    await reconcile(db)


async def test_a_new_ingredient_appears_in_the_pantry_and_its_live_events(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """Seed 000: the live view ignored ingredients it had not seen before."""
    assert "harina_maiz" not in await pantry(http, stack)
    arepa = await settled(http, stack, (await order(http, stack, "arepa-jamon-queso")).json()["order_id"])
    assert arepa["status"] == "reserved"
    assert (await pantry(http, stack))["harina_maiz"] == {
        "ingredient": "harina_maiz",
        "on_hand": 2,
        "reserved": 2,
        "available": 0,
        "version": 1,  # created at zero by the order, then the delivery: its first change
    }
    moved = await stream_envelopes(stack, "KITCHEN", "kitchen.pantry.moved.v1")
    assert [e.data["ingredient"] for e in moved] == ["harina_maiz"]
    assert moved[0].data["delta"] == 2 and moved[0].data["reason"] == "delivery"
    await reconcile(db)


async def test_order_001_placed_many_times_changes_stock_once(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """Seed 004: an idempotent order is processed once however often it is sent."""
    ids = {(await order(http, stack, "ensalada-cesar", key="ORDER_001")).json()["order_id"] for _ in range(5)}
    assert len(ids) == 1
    await settled(http, stack, ids.pop())
    assert await db.fetchval("SELECT count(*) FROM kitchen.orders") == 1
    assert await db.fetchval("SELECT count(*) FROM warehouse.supply_requests") == 1
    assert (await stock(http, stack))["lechuga"] == 1
    await reconcile(db)
