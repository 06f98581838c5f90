"""Deliveries reaching the kitchen through its real consumer, on real PostgreSQL and NATS."""

from __future__ import annotations

import asyncpg
import pytest

from brigade_common.envelope import Envelope
from brigade_common.testing.waiting import eventually
from brigade_contracts.kitchen import expiry_schedule_subject
from brigade_contracts.warehouse import SUPPLY_DELIVERED, SupplyDelivered
from services.kitchen.tests.integration.harness import KitchenClient

ORDERS = "/api/kitchen/orders"


async def blocked_on_locks(db: asyncpg.Pool, count: int) -> None:
    """Wait (on the server's own view, not a sleep) until `count` kitchen backends wait for a lock."""

    async def waiting() -> bool:
        n = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kitchen' AND wait_event_type = 'Lock'"
        )
        return int(n) >= count

    await eventually(waiting, 15, f"{count} deliveries waiting for the order's lock")


# Each delivery in a transaction of its own (not applied together), as a second kitchen process's would be.
@pytest.mark.parametrize("kitchen_settings", [{"order_wait_s": 0.5, "max_concurrent_deliveries": 0}])
async def test_deliveries_that_queue_on_one_order_each_see_what_the_one_before_did(kitchen: KitchenClient) -> None:
    """Regression: a delivery that waited for the order's lock must not act on lines read before the
    delivery ahead of it committed (one statement, one snapshot): the order would stay pending."""
    placed = await kitchen.http.post(ORDERS, json={"dish_id": "ensalada-cesar", "quantity": 2}, headers=kitchen.auth())
    order_id = placed.json()["order_id"]
    assert placed.json()["status"] == "pending"
    requests = await kitchen.db.fetch(
        "SELECT id::text AS id, ingredient, amount FROM supply_requests WHERE order_id = $1::uuid", order_id
    )
    assert sorted((r["ingredient"], r["amount"]) for r in requests) == [("lechuga", 6), ("pollo", 2)]
    js = kitchen.app.nc.jetstream()
    async with kitchen.db.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM orders WHERE id = $1::uuid FOR UPDATE", order_id)
        for r in requests:
            env = Envelope.wrap(
                SUPPLY_DELIVERED,
                SupplyDelivered(request_id=r["id"], order_id=order_id, ingredient=r["ingredient"], amount=r["amount"]),
            )
            await js.publish(SUPPLY_DELIVERED, env.to_bytes(), headers=env.headers())
        await blocked_on_locks(kitchen.db, 2)
        await tx.commit()

    async def reserved() -> dict[str, object] | None:
        body = (await kitchen.http.get(f"{ORDERS}/{order_id}", headers=kitchen.auth())).json()
        return body if body["status"] == "reserved" else None

    await eventually(reserved, 15, "the order reserved by its two deliveries")
    lines = await kitchen.db.fetch(
        "SELECT ingredient, needed, reserved FROM order_lines WHERE order_id = $1::uuid", order_id
    )
    assert all(r["reserved"] == r["needed"] for r in lines)
    pantry = await kitchen.pantry()
    assert (pantry["lechuga"]["on_hand"], pantry["lechuga"]["reserved"]) == (10, 10)
    assert (pantry["pollo"]["on_hand"], pantry["pollo"]["reserved"]) == (4, 4)


@pytest.mark.parametrize("kitchen_settings", [{"order_wait_s": 0.5, "payment_window_s": 1, "sweep_s": 0.3}])
async def test_an_order_whose_expiry_check_never_comes_is_expired_by_the_sweep(kitchen: KitchenClient) -> None:
    """A lost (here: purged) or dead-lettered expiry schedule delays the release by one sweep at most."""
    placed = await kitchen.http.post(ORDERS, json={"dish_id": "pan-simple"}, headers=kitchen.auth())
    order = placed.json()
    assert order["status"] == "reserved"
    js = kitchen.app.nc.jetstream()

    async def scheduled() -> bool:
        info = await js.stream_info("KITCHEN", subjects_filter=expiry_schedule_subject(order["order_id"]))
        return bool(info.state.subjects)

    await eventually(scheduled, 10, "the expiry schedule in the stream")
    await js.purge_stream("KITCHEN", subject=expiry_schedule_subject(order["order_id"]))

    async def expired() -> dict[str, object] | None:
        body = (await kitchen.http.get(f"{ORDERS}/{order['order_id']}", headers=kitchen.auth())).json()
        return body if body["status"] == "expired" else None

    done = await eventually(expired, 15, "the order expired by the sweep")
    assert done["reason"] == "not paid in time"
    pantry = await kitchen.pantry()
    assert pantry["jamon"]["reserved"] == 0 and pantry["jamon"]["on_hand"] == 86
    # The schedule never fired: no expiry message reached the kitchen's expiry consumer.
    assert (await js.consumer_info("KITCHEN", "kitchen-expiry")).delivered.stream_seq == 0
