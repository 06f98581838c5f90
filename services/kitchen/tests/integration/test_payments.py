"""What the kitchen does for the payments service, on real PostgreSQL and NATS: it answers for an order
by request-reply, serves a paid order, and refuses (through its outbox) a payment for one it no
longer holds."""

from __future__ import annotations

import pytest

from brigade_common import rpc
from brigade_common.envelope import Envelope
from brigade_common.testing.waiting import eventually
from brigade_contracts import kitchen as k
from brigade_contracts.payments import PAYMENT_SUCCEEDED, PaymentSucceeded
from services.kitchen.tests.integration.harness import KitchenClient

ORDERS = "/api/kitchen/orders"


async def place(kitchen: KitchenClient) -> dict[str, object]:
    r = await kitchen.http.post(ORDERS, json={"dish_id": "pan-simple", "quantity": 1}, headers=kitchen.auth())
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


async def pay(kitchen: KitchenClient, order: dict[str, object], payment_id: str) -> None:
    paid = PaymentSucceeded(
        payment_id=payment_id,
        order_id=str(order["order_id"]),
        customer_id=str(order["customer_id"]),
        amount_cents=int(str(order["total_cents"])),
    )
    env = Envelope.wrap(PAYMENT_SUCCEEDED, paid)
    await kitchen.app.nc.jetstream().publish(env.type, env.to_bytes(), headers=env.headers())


async def test_the_kitchen_answers_for_an_order_by_request_reply(kitchen: KitchenClient) -> None:
    order = await place(kitchen)
    reply = await rpc.call(
        kitchen.app.nc, k.ORDER_GET, k.OrderRequest(order_id=str(order["order_id"])), k.OrderSnapshot, timeout=5
    )
    snapshot = reply.model_dump(mode="json")
    assert snapshot == {k: order[k] for k in snapshot}  # what the customer was answered
    for unknown in ("6f1c0000-0000-4000-8000-000000000000", "not-a-uuid"):
        with pytest.raises(rpc.RpcFailed) as failed:
            await rpc.call(kitchen.app.nc, k.ORDER_GET, k.OrderRequest(order_id=unknown), k.OrderSnapshot, timeout=5)
        assert failed.value.code == "404"


async def test_a_payment_for_a_cancelled_order_is_refused_and_a_paid_one_is_served(kitchen: KitchenClient) -> None:
    cancelled, served = await place(kitchen), await place(kitchen)
    r = await kitchen.http.post(f"{ORDERS}/{cancelled['order_id']}/cancel", headers=kitchen.auth())
    assert r.json()["status"] == "cancelled"
    js = kitchen.app.nc.jetstream()
    refusals = await js.subscribe(k.PAYMENT_REFUSED, stream="KITCHEN", ordered_consumer=True)
    await pay(kitchen, cancelled, "pay-late")
    await pay(kitchen, served, "pay-1")
    refused = Envelope.from_bytes((await refusals.next_msg(timeout=10)).data)
    assert refused.data == {
        "payment_id": "pay-late",
        "order_id": cancelled["order_id"],
        "customer_id": "customer-demo",
        "amount_cents": cancelled["total_cents"],
        "order_status": "cancelled",
        "reason": "the order was cancelled (cancelled by customer-demo) when the payment reached the kitchen",
    }

    async def was_served() -> bool:
        r = await kitchen.http.get(f"{ORDERS}/{served['order_id']}", headers=kitchen.auth())
        return bool(r.json()["status"] == "served")

    await eventually(was_served, 10, "the paid order served")
    assert await kitchen.db.fetchval("SELECT payment_id FROM orders WHERE id = $1::uuid", served["order_id"]) == "pay-1"
    # Nothing was consumed for the cancelled order: its dish's ingredients left only once.
    consumed = await kitchen.db.fetchval(
        "SELECT count(DISTINCT order_id) FROM pantry_movements WHERE reason = 'consume'"
    )
    assert consumed == 1
    await refusals.unsubscribe()
