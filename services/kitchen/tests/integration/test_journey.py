"""An order's journey on real PostgreSQL and NATS: the steps the kitchen stores as the saga's
messages reach its consumers, the live events that carry them, and who may read them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from nats.aio.msg import Msg

from brigade_common.dlq.letters import read_dead_letters
from brigade_common.envelope import Envelope
from brigade_common.testing.waiting import eventually
from brigade_contracts.kitchen import JOURNEY_STEP, ORDER_EVENTS
from brigade_contracts.payments import PAYMENT_SUCCEEDED, PaymentSucceeded
from brigade_contracts.warehouse import PURCHASE_MADE, SUPPLY_DELIVERED, PurchaseMade, SupplyDelivered
from services.kitchen.tests.integration.harness import KitchenClient

ORDERS = "/api/kitchen/orders"


async def publish(kitchen: KitchenClient, env: Envelope) -> None:
    await kitchen.app.nc.jetstream().publish(env.type, env.to_bytes(), headers=env.headers())


async def journey(kitchen: KitchenClient, order_id: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    r = await kitchen.http.get(f"{ORDERS}/{order_id}/journey", headers=headers or kitchen.auth())
    assert r.status_code == 200, r.text
    steps: list[dict[str, Any]] = r.json()
    return steps


async def test_a_short_order_journeys_requested_bought_delivered_reserved_served_once_each(
    kitchen: KitchenClient,
) -> None:
    live: list[dict[str, Any]] = []

    async def heard(msg: Msg) -> None:
        live.append(json.loads(msg.data))

    subs = [await kitchen.app.nc.subscribe(s, cb=heard) for s in (JOURNEY_STEP, ORDER_EVENTS)]
    placed = await kitchen.http.post(ORDERS, json={"dish_id": "ensalada-cesar"}, headers=kitchen.auth())
    order = placed.json()
    assert placed.status_code == 202 and order["status"] == "pending"
    order_id = order["order_id"]
    request_id = await kitchen.db.fetchval("SELECT id::text FROM supply_requests WHERE order_id = $1::uuid", order_id)

    def bought(purchase_id: int, received: int) -> Envelope:
        made = PurchaseMade(
            purchase_id=purchase_id,
            request_id=request_id,
            ingredient="lechuga",
            requested=1,
            received=received,
            supplier="Mercado Central",
        )
        return Envelope.wrap(PURCHASE_MADE, made)

    empty, enough = bought(41, 0), bought(42, 1)
    await publish(kitchen, empty)
    await publish(kitchen, enough)
    await eventually(lambda: _has(kitchen, order_id, "purchase:42"), 15, "both purchases in the journey")
    # The same purchase again: as a redelivered message (its envelope) and as another message.
    await publish(kitchen, enough)
    await publish(kitchen, bought(42, 1))
    delivered = SupplyDelivered(request_id=request_id, order_id=order_id, ingredient="lechuga", amount=1)
    await publish(kitchen, Envelope.wrap(SUPPLY_DELIVERED, delivered))
    await publish(kitchen, Envelope.wrap(SUPPLY_DELIVERED, delivered))  # a second delivery of the request

    async def status(wanted: str) -> dict[str, Any] | None:
        body: dict[str, Any] = (await kitchen.http.get(f"{ORDERS}/{order_id}", headers=kitchen.auth())).json()
        return body if body["status"] == wanted else None

    reserved = await eventually(lambda: status("reserved"), 15, "the order reserved by its delivery")
    paid = PaymentSucceeded(
        payment_id="pay-1", order_id=order_id, customer_id=order["customer_id"], amount_cents=reserved["total_cents"]
    )
    await publish(kitchen, Envelope.wrap(PAYMENT_SUCCEEDED, paid))
    served = await eventually(lambda: status("served"), 15, "the order served")

    # Every duplicate was consumed (the consumers are past them) before the journey is read.
    async def consumed() -> bool:
        js = kitchen.app.nc.jetstream()
        infos = [await js.consumer_info("WAREHOUSE", c) for c in ("kitchen-purchases", "kitchen-supply")]
        return all(i.num_pending == 0 and i.num_ack_pending == 0 for i in infos)

    await eventually(consumed, 15, "every purchase and delivery message handled")
    steps = await journey(kitchen, order_id)
    assert [(s["kind"], s["ingredient"], s["amount"]) for s in steps] == [
        ("pending", None, None),
        ("requested", "lechuga", 1),
        ("purchased", "lechuga", 0),
        ("purchased", "lechuga", 1),
        ("delivered", "lechuga", 1),
        ("reserved", None, None),
        ("served", None, None),
    ]
    assert [s["key"] for s in steps] == [
        "v1",
        f"requested:{request_id}",
        "purchase:41",
        "purchase:42",
        f"delivered:{request_id}",
        "v2",
        "v3",
    ]
    times = [datetime.fromisoformat(s["at"]) for s in steps]
    assert times == sorted(times)
    assert steps[2]["at"] == empty.model_dump(mode="json")["occurred_at"]  # the warehouse's time of the purchase
    assert steps[3]["detail"] == "Mercado Central"
    # The order knows when it was placed and last changed.
    assert _same_time(served["created_at"]) == _same_time(steps[0]["at"])
    assert datetime.fromisoformat(served["updated_at"]) >= datetime.fromisoformat(served["created_at"])
    # The 202 said so too: placed then, and not changed since.
    assert order["created_at"] == order["updated_at"] == served["created_at"]

    # Live, each step went out once as it happened, with the key and the time the journey shows.
    async def heard_all() -> bool:
        return len({_key(e) for e in live if e["data"]["order_id"] == order_id}) == len(steps)

    await eventually(heard_all, 15, "every step heard live")
    for sub in subs:
        await sub.unsubscribe()
    heard_steps: dict[str, str] = {}
    for e in live:  # the first of a key, as the journey keeps the first
        if e["data"]["order_id"] == order_id:
            heard_steps.setdefault(_key(e), e["occurred_at"])
    assert {s["key"]: _same_time(s["at"]) for s in steps} == {k: _same_time(v) for k, v in heard_steps.items()}
    journey_events = [e for e in live if e["type"] == JOURNEY_STEP]
    assert all(e["data"]["customer_id"] == order["customer_id"] for e in journey_events)
    assert [e["data"]["kind"] for e in journey_events if e["data"]["key"] == f"delivered:{request_id}"] == ["delivered"]


async def test_the_journey_is_its_customers_and_staffs_and_a_404_for_anyone_else(kitchen: KitchenClient) -> None:
    placed = await kitchen.http.post(ORDERS, json={"dish_id": "pan-simple"}, headers=kitchen.auth("alice"))
    order_id = placed.json()["order_id"]
    mine = await journey(kitchen, order_id, kitchen.auth("alice"))
    assert [s["kind"] for s in mine] == ["pending", "reserved"]
    assert await journey(kitchen, order_id, kitchen.auth("ana", ("staff",))) == mine
    other = await kitchen.http.get(f"{ORDERS}/{order_id}/journey", headers=kitchen.auth("bob"))
    assert other.status_code == 404 and other.headers["content-type"].startswith("application/problem+json")
    unknown = await kitchen.http.get(
        f"{ORDERS}/6f1c0000-0000-4000-8000-00000000dead/journey", headers=kitchen.auth("alice")
    )
    assert unknown.status_code == 404
    bad = await kitchen.http.get(f"{ORDERS}/not-an-id/journey", headers=kitchen.auth("alice"))
    assert bad.status_code == 404  # as GET /orders/{id}: no such order, never a 500
    assert (await kitchen.http.get(f"{ORDERS}/{order_id}/journey")).status_code == 401
    listed = (await kitchen.http.get(ORDERS, headers=kitchen.auth("alice"))).json()["items"]
    assert listed[0]["order_id"] == order_id and listed[0]["created_at"]


async def _has(kitchen: KitchenClient, order_id: str, key: str) -> bool:
    return bool(
        await kitchen.db.fetchval("SELECT true FROM order_steps WHERE order_id = $1::uuid AND key = $2", order_id, key)
    )


def _key(env: dict[str, Any]) -> str:
    data = env["data"]
    return str(data["key"]) if env["type"] == JOURNEY_STEP else f"v{data['version']}"


def _same_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_purchase_for_a_request_the_kitchen_never_made_is_acknowledged_not_dead_lettered(
    kitchen: KitchenClient,
) -> None:
    js = kitchen.app.nc.jetstream()
    stranger = PurchaseMade(
        purchase_id=99,
        request_id="6f1c0000-0000-4000-8000-00000000dead",
        ingredient="lechuga",
        requested=3,
        received=3,
        supplier="La Granja",
    )
    await publish(kitchen, Envelope.wrap(PURCHASE_MADE, stranger))

    async def handled() -> bool:
        info = await js.consumer_info("WAREHOUSE", "kitchen-purchases")
        return info.delivered.stream_seq > 0 and info.num_pending == 0 and info.num_ack_pending == 0

    await eventually(handled, 15, "the purchase acknowledged")
    assert await read_dead_letters(js, "dlq.kitchen.kitchen-purchases") == []
    assert await kitchen.db.fetchval("SELECT count(*) FROM order_steps WHERE key = 'purchase:99'") == 0
