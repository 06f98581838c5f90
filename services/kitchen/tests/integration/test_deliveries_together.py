"""The warehouse's deliveries applied together, on real PostgreSQL and NATS: those that come while a
delivery transaction runs go in the next one, each as it would have gone alone (its order's holds, its
message's correlation id, its inbox entry), and one the group cannot apply gets what it would alone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nats.aio.msg import Msg

from brigade_common.dlq.letters import read_dead_letters
from brigade_common.envelope import MSG_ID, Envelope
from brigade_common.messaging import MessageContext
from brigade_common.testing.waiting import eventually
from brigade_contracts import kitchen as k
from brigade_contracts.warehouse import PURCHASE_MADE, SUPPLY_DELIVERED, PurchaseMade, SupplyDelivered
from brigade_kitchen.adapters.unit_of_work import PostgresKitchenUnitOfWork
from services.kitchen.tests.integration.harness import KitchenClient
from services.kitchen.tests.integration.test_deliveries import blocked_on_locks
from services.kitchen.tests.integration.test_placed_together import _metric, _metrics

ORDERS = "/api/kitchen/orders"
DISH = "ensalada-cesar"  # lechuga 5, pollo 2 a dish: the seed's pantry has lechuga 4 and pollo 2


async def _pending(kitchen: KitchenClient, correlation: str) -> tuple[str, list[dict[str, Any]]]:
    headers = {**kitchen.auth(), "Correlation-Id": correlation}
    placed = await kitchen.http.post(ORDERS, json={"dish_id": DISH, "quantity": 2}, headers=headers)
    assert placed.json()["status"] == "pending"
    order_id = placed.json()["order_id"]
    rows = await kitchen.db.fetch(
        "SELECT id::text AS id, ingredient, amount FROM supply_requests WHERE order_id = $1::uuid ORDER BY ingredient",
        order_id,
    )
    return order_id, [dict(r) for r in rows]


def _delivery(order_id: str, request: dict[str, Any], correlation: str) -> Envelope:
    delivered = SupplyDelivered(
        request_id=request["id"], order_id=order_id, ingredient=request["ingredient"], amount=request["amount"]
    )
    return Envelope.wrap(SUPPLY_DELIVERED, delivered, correlation_id=correlation)


async def test_deliveries_that_came_while_one_ran_are_applied_together_each_as_alone(kitchen: KitchenClient) -> None:
    heard: dict[str, set[str]] = {}  # order id → the correlation ids of its order and pantry events

    async def hear(msg: Msg) -> None:
        envelope = json.loads(msg.data)
        heard.setdefault(envelope["data"].get("order_id") or "", set()).add(envelope["correlation_id"])

    subs = [await kitchen.app.nc.subscribe(subject, cb=hear) for subject in (k.ORDER_EVENTS, k.PANTRY_EVENTS)]
    a, a_requests = await _pending(kitchen, "corr-a")
    b, b_requests = await _pending(kitchen, "corr-b")
    pantry_before = await kitchen.pantry()
    heard.clear()
    first = _delivery(a, a_requests[0], "corr-a")
    js = kitchen.app.nc.jetstream()
    before = await _metrics(kitchen)

    async with kitchen.db.acquire() as holder:  # order a's row, held: its first delivery waits for it
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM orders WHERE id = $1::uuid FOR UPDATE", a)
        await js.publish(SUPPLY_DELIVERED, first.to_bytes(), headers=first.headers())
        await blocked_on_locks(kitchen.db, 1)
        group = [
            _delivery(a, a_requests[1], "corr-a"),
            *(_delivery(b, request, "corr-b") for request in b_requests),
            _delivery(b, {**b_requests[0], "id": "6f1c0000-0000-4000-8000-00000000dead"}, "corr-b"),  # no such request
        ]
        for env in group:
            await js.publish(SUPPLY_DELIVERED, env.to_bytes(), headers=env.headers())
        # The first delivery again, as a redelivery brings it (JetStream would drop a second publish).
        again = {h: v for h, v in first.headers().items() if h != MSG_ID}
        await js.publish(SUPPLY_DELIVERED, first.to_bytes(), headers=again)

        async def queued() -> bool:
            return _metric(await _metrics(kitchen), "kitchen_deliveries_waiting") == len(group) + 1

        await eventually(queued, 15, "the five deliveries waiting for the one transaction that runs")
        await tx.rollback()

    async def reserved() -> bool:
        states = [(await kitchen.http.get(f"{ORDERS}/{o}", headers=kitchen.auth())).json() for o in (a, b)]
        return all(s["status"] == "reserved" for s in states)

    await eventually(reserved, 15, "both orders reserved by their deliveries")
    after = await _metrics(kitchen)

    def more(name: str) -> float:
        return _metric(after, name) - _metric(before, name)

    # The first delivery alone, then a's second and b's two in one transaction; the redelivery and the
    # unknown request applied nothing.
    assert more("kitchen_deliveries_applied_together_count") == 2
    assert more("kitchen_deliveries_applied_together_sum") == 4
    pantry = await kitchen.pantry()
    for ingredient in ("lechuga", "pollo"):
        delivered = sum(r["amount"] for r in (*a_requests, *b_requests) if r["ingredient"] == ingredient)
        was, now = pantry_before[ingredient], pantry[ingredient]
        assert now["on_hand"] == was["on_hand"] + delivered
        assert now["reserved"] == now["on_hand"]  # all of it held for the two orders
    moved = await kitchen.db.fetchval("SELECT count(*) FROM pantry_movements WHERE reason = 'delivery'")
    assert moved == 4
    inbox = await kitchen.db.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'kitchen-supply'")
    assert inbox == 4

    # The unknown request is dead-lettered, as alone.
    letters = await eventually(
        lambda: read_dead_letters(js, "dlq.kitchen.kitchen-supply"), 15, "the unknown request dead-lettered"
    )
    assert [letter.error.split(":")[0] for letter in letters] == ["UnknownSupplyRequest"]

    # Each order's events carry its own deliveries' correlation id.
    wanted = {a: {"corr-a"}, b: {"corr-b"}}
    await eventually(lambda: all(heard.get(o) == c for o, c in wanted.items()), 15, "each order's events")
    for sub in subs:
        await sub.unsubscribe()


async def test_a_purchase_is_recorded_while_its_orders_row_is_locked_and_its_delivery_waits(
    kitchen: KitchenClient,
) -> None:
    steps: list[dict[str, Any]] = []  # the journey steps' envelopes, as the live feed hears them

    async def hear(msg: Msg) -> None:
        steps.append(json.loads(msg.data))

    sub = await kitchen.app.nc.subscribe(k.JOURNEY_STEP, cb=hear)
    b, b_requests = await _pending(kitchen, "corr-b")
    lechuga = b_requests[0]
    bought = Envelope.wrap(
        PURCHASE_MADE,
        PurchaseMade(
            purchase_id=41,
            request_id=lechuga["id"],
            ingredient=lechuga["ingredient"],
            requested=lechuga["amount"],
            received=lechuga["amount"],
            supplier="La Granja",
        ),
        correlation_id="corr-b",
    )
    delivered = _delivery(b, lechuga, "corr-b")
    js = kitchen.app.nc.jetstream()
    version = await kitchen.db.fetchval("SELECT version FROM orders WHERE id = $1::uuid", b)

    def kinds() -> set[str]:
        return {s["data"]["kind"] for s in steps if s["data"]["order_id"] == b}

    async with kitchen.db.acquire() as holder:  # order b's row, held as the kitchen holds it: its delivery waits
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM orders WHERE id = $1::uuid FOR NO KEY UPDATE", b)
        # As the warehouse sends them, from one transaction: the delivery's message first.
        for subject, env in ((SUPPLY_DELIVERED, delivered), (PURCHASE_MADE, bought)):
            await js.publish(subject, env.to_bytes(), headers=env.headers())
        await blocked_on_locks(kitchen.db, 1)  # the delivery
        # The purchase changes nothing of the order: it is on the journey while the row is still held.
        await eventually(lambda: "purchased" in kinds(), 15, "order b's purchase on its journey")
        assert "delivered" not in kinds()
        # Nor was the order's row written by it.
        assert await kitchen.db.fetchval("SELECT version FROM orders WHERE id = $1::uuid", b) == version
        await tx.rollback()

    await eventually(lambda: "delivered" in kinds(), 15, "order b's delivery on its journey")
    journey = (await kitchen.http.get(f"{ORDERS}/{b}/journey", headers=kitchen.auth())).json()
    assert [s["kind"] for s in journey if s["kind"] in ("purchased", "delivered")] == ["purchased", "delivered"]
    # Each step's message was caused by its own message.
    causes = {s["data"]["kind"]: s["causation_id"] for s in steps if s["data"]["order_id"] == b}
    assert (causes["purchased"], causes["delivered"]) == (bought.id, delivered.id)
    await sub.unsubscribe()


async def test_an_order_read_without_its_lock_cannot_be_changed(kitchen: KitchenClient) -> None:
    """The unit of work refuses, at commit, a change to an order it read for a journey step only:
    nothing of the transaction is written."""
    b, b_requests = await _pending(kitchen, "corr-b")
    uow = PostgresKitchenUnitOfWork.factory(kitchen.db, on_commit=lambda rows: None)(MessageContext("t"), None)
    with pytest.raises(RuntimeError, match="read without its lock"):
        async with uow:
            order = (await uow.orders.read_for_supply_requests([b_requests[0]["id"]]))[b_requests[0]["id"]]
            order.supply_failed(b_requests[0]["id"], "tried")
            await uow.commit()
    assert await kitchen.db.fetchval("SELECT status FROM orders WHERE id = $1::uuid", b) == "pending"
