"""The money side of the saga through real processes and HTTP only: order → pay → served; what a
declined card, a late payment and the expiry/payment race do; seed 001's payment bugs, each with
the test that proves Brigade does not have it.

Seed 001 (ORIGINALS.md B): the payment listener was never registered, so paid orders expired (and
the ticket was resold); a completed order could be charged again; a cancelled order was charged.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.client import messages_handled, order, pantry, pay, payments_of, wait_status
from tests.e2e.harness import Stack, eventually, restart
from tests.e2e.reconcile import reconcile


async def replica_says(db: asyncpg.Pool, placed: dict[str, Any], status: str) -> None:
    """The payments service has heard that the order is `status` (its replica is how it knows)."""

    async def heard() -> bool:
        got = await db.fetchval("SELECT status FROM payments.orders WHERE order_id = $1::uuid", placed["order_id"])
        return bool(got == status)

    await eventually(heard, 15, f"the payments replica saying {status}")


@pytest.mark.stack_env(KITCHEN_PAYMENT_WINDOW_S="2")
async def test_a_paid_order_is_served_once_and_a_declined_late_or_cancelled_one_is_never_charged(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """Three customers' orders side by side (their deadlines pass together): one paid after a
    declined card, one whose cards are declined until it expires, one cancelled."""
    paid_order = (await order(http, stack, "pan-simple", 2, sub="ana")).json()
    unpaid = (await order(http, stack, "pan-simple", sub="bea")).json()
    assert paid_order["status"] == unpaid["status"] == "reserved"
    # Paying the moment the kitchen answered: the payments replica may not have heard yet.
    declined = await pay(http, stack, paid_order, "tok_chargeDeclinedInsufficientFunds")
    assert declined.status_code == 402 and declined.json()["decline_code"] == "insufficient_funds"
    paid = await pay(http, stack, paid_order, key="checkout-1")
    assert paid.status_code == 201, paid.text
    assert paid.json()["amount_cents"] == paid_order["total_cents"]
    retried = await pay(http, stack, paid_order, key="checkout-1")  # a double click: the same answer
    assert (retried.status_code, retried.json()) == (201, paid.json())
    served = await wait_status(http, stack, paid_order["order_id"], {"served"}, sub="ana")
    assert served["version"] == paid_order["version"] + 1
    # Seed 001: a completed order charged again.
    again = await pay(http, stack, paid_order)
    assert again.status_code == 409, again.text
    assert [p["status"] for p in await payments_of(http, stack, paid_order)] == ["succeeded", "failed"]

    # A declined card takes nothing and the order stays payable: still reserved, its dish held.
    for token in ("tok_chargeDeclined", "tok_chargeDeclinedExpiredCard"):
        assert (await pay(http, stack, unpaid, token)).status_code == 402
    assert (await wait_status(http, stack, unpaid["order_id"], {"reserved"}, sub="bea"))["version"] == 2
    # Unpaid, it expires on time and lets its ingredients go; a payment after that is refused.
    await wait_status(http, stack, unpaid["order_id"], {"expired"}, sub="bea")
    await replica_says(db, unpaid, "expired")
    late = await pay(http, stack, unpaid)
    assert late.status_code == 409 and late.json()["order_status"] == "expired"

    # Seed 001: a cancelled order was charged.
    cancelled = (await order(http, stack, "pan-simple", sub="cai")).json()
    url = f"{stack.url('kitchen')}/api/kitchen/orders/{cancelled['order_id']}/cancel"
    assert (await http.post(url, headers=stack.auth("cai"))).json()["status"] == "cancelled"
    await replica_says(db, cancelled, "cancelled")
    refused = await pay(http, stack, cancelled)
    assert refused.status_code == 409 and refused.json()["order_status"] == "cancelled"

    # Seed 001: the payment listener was never registered, so a paid order expired. The paid
    # order's expiry check has fired (with the unpaid one's) and found it served: served it stays.
    await messages_handled(http, stack, "kitchen", "kitchen-expiry", at_least=2)
    assert (await wait_status(http, stack, paid_order["order_id"], {"served"}, sub="ana")) == served
    assert await db.fetchval("SELECT count(*) FROM payments.payments WHERE status <> 'failed'") == 1
    jamon = (await pantry(http, stack))["jamon"]
    # The paid dish only; seeded, then each order's hold and its consume, expiry or cancel.
    assert jamon == {"ingredient": "jamon", "on_hand": 76, "reserved": 0, "available": 76, "version": 7}
    await reconcile(db)


# The payments relay is off at first, so the payment's event waits in its outbox while the order
# expires: the race the original loses, made to happen every time.
@pytest.mark.stack_env(KITCHEN_PAYMENT_WINDOW_S="1", PAYMENTS_OUTBOX_RELAY="false")
async def test_a_payment_that_reaches_the_kitchen_after_the_expiry_is_refunded_and_the_ledgers_reconcile(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    placed = (await order(http, stack, "pan-simple")).json()
    paid = await pay(http, stack, placed)
    assert paid.status_code == 201 and paid.json()["status"] == "succeeded", paid.text
    await wait_status(http, stack, placed["order_id"], {"expired"})
    stack.services["payments"].stop()
    await restart(stack, "payments", PAYMENTS_OUTBOX_RELAY="true")  # the payment reaches the kitchen now

    async def refunded() -> dict[str, Any] | None:
        [payment] = await payments_of(http, stack, placed)
        return payment if payment["status"] == "refunded" else None

    payment = await eventually(refunded, 30, "the late payment refunded")
    assert payment["payment_id"] == paid.json()["payment_id"]
    assert payment["refund_reason"] == "the order was expired (not paid in time) when the payment reached the kitchen"
    # Nothing was served for it, nothing consumed, and the money came back: every ledger agrees.
    assert (await wait_status(http, stack, placed["order_id"], {"expired"}))["status"] == "expired"
    assert await db.fetchval("SELECT count(*) FROM kitchen.pantry_movements WHERE reason = 'consume'") == 0
    assert (await pantry(http, stack))["jamon"] == {
        "ingredient": "jamon",
        "on_hand": 86,
        "reserved": 0,
        "available": 86,
        "version": 3,  # seeded, held, released on expiry
    }
    await reconcile(db)
