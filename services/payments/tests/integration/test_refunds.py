"""Compensation through the real consumer: a payment the kitchen refused (the order had expired) is
refunded once, however often the refusal arrives, and the refund is announced."""

from __future__ import annotations

from brigade_common.envelope import Envelope
from brigade_common.testing.waiting import eventually
from brigade_contracts import kitchen as k
from brigade_contracts.payments import PAYMENT_REFUNDED
from services.payments.tests.integration.harness import PAYMENTS, PaymentsClient, new_order_id, snapshot

REASON = "the order was expired (not paid in time) when the payment reached the kitchen"


async def test_a_refused_payment_is_refunded_once_and_announced(payments: PaymentsClient) -> None:
    order_id = new_order_id()
    await payments.known(snapshot(order_id))
    paid = (await payments.pay(order_id)).json()
    refused = k.PaymentRefused(
        payment_id=paid["payment_id"],
        order_id=order_id,
        customer_id="alice",
        amount_cents=900,
        order_status=k.OrderStatus.EXPIRED,
        reason=REASON,
    )
    js = payments.app.nc.jetstream()
    for _ in range(2):  # the refusal twice, under two envelope ids
        env = Envelope.wrap(k.PAYMENT_REFUSED, refused)
        await js.publish(env.type, env.to_bytes(), headers=env.headers())

    async def refunded() -> dict[str, object] | None:
        r = await payments.http.get(f"{PAYMENTS}/{paid['payment_id']}", headers=payments.auth())
        return r.json() if r.json()["status"] == "refunded" else None

    shown = await eventually(refunded, 10, "the payment refunded")
    assert shown["refund_reason"] == REASON
    [announced] = await payments.events(PAYMENT_REFUNDED, 1)
    assert announced.data == {
        "payment_id": paid["payment_id"],
        "order_id": order_id,
        "customer_id": "alice",
        "amount_cents": 900,
        "reason": REASON,
    }

    async def both_handled() -> bool:
        n = await payments.db.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'payments-refusals'")
        return int(n) == 2

    await eventually(both_handled, 10, "both refusals handled")
    assert len(await payments.events(PAYMENT_REFUNDED, 1)) == 1
    # A refunded order stays charged once: it cannot be paid for again.
    assert (await payments.pay(order_id)).status_code == 409
