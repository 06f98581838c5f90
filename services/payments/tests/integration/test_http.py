"""Every payments route on real PostgreSQL and NATS: paying, declines, refusals, who sees what, and
the Idempotency-Key rules (Stripe's)."""

from __future__ import annotations

import asyncio

import pytest

from brigade_common.testing.waiting import eventually
from brigade_contracts.payments import PAYMENT_FAILED, PAYMENT_SUCCEEDED
from services.payments.tests.integration.harness import (
    PAYMENTS,
    PaymentsClient,
    kitchen_answering,
    new_order_id,
    problem,
    snapshot,
)


async def test_a_customer_pays_for_their_reserved_order_once_and_reads_it_back(payments: PaymentsClient) -> None:
    order_id = new_order_id()
    await payments.known(snapshot(order_id))
    r = await payments.pay(order_id)
    assert r.status_code == 201, r.text
    paid = r.json()
    assert {k: paid[k] for k in ("order_id", "customer_id", "amount_cents", "status", "failure_code")} == {
        "order_id": order_id,
        "customer_id": "alice",
        "amount_cents": 900,  # the order's price: the client never names an amount
        "status": "succeeded",
        "failure_code": None,
    }
    assert r.headers["location"] == f"{PAYMENTS}/{paid['payment_id']}"
    assert (await payments.http.get(r.headers["location"], headers=payments.auth())).json() == paid
    listed = await payments.http.get(PAYMENTS, params={"order_id": order_id}, headers=payments.auth())
    assert listed.json() == {"items": [paid], "next_cursor": None}
    # Someone else's payment does not exist for them; staff see it.
    assert (await payments.http.get(r.headers["location"], headers=payments.auth("bob"))).status_code == 404
    assert (await payments.http.get(PAYMENTS, headers=payments.auth("bob"))).json()["items"] == []
    staff = payments.auth("carol", ("staff",))
    assert (await payments.http.get(r.headers["location"], headers=staff)).json() == paid
    assert [p["payment_id"] for p in (await payments.http.get(PAYMENTS, headers=staff)).json()["items"]] == [
        paid["payment_id"]
    ]
    # Paid is paid: a second payment is refused, and the kitchen heard of one.
    again = await payments.pay(order_id)
    assert again.status_code == 409 and problem(again)["type"].endswith("/order-already-charged")
    [event] = await payments.events(PAYMENT_SUCCEEDED, 1)
    assert event.data == {
        "payment_id": paid["payment_id"],
        "order_id": order_id,
        "customer_id": "alice",
        "amount_cents": 900,
    }


async def test_a_declined_card_is_a_402_with_the_reason_and_the_order_stays_payable(payments: PaymentsClient) -> None:
    order_id = new_order_id()
    await payments.known(snapshot(order_id))
    for token, code in (
        ("tok_chargeDeclined", "card_declined"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("tok_chargeDeclinedExpiredCard", "expired_card"),
    ):
        r = await payments.pay(order_id, token)
        assert r.status_code == 402, r.text
        body = problem(r)
        assert body["type"].endswith("/card-declined") and body["decline_code"] == code
        assert [e["field"] for e in body["errors"]] == ["token"]
        shown = await payments.http.get(f"{PAYMENTS}/{body['payment_id']}", headers=payments.auth())
        assert (shown.json()["status"], shown.json()["failure_code"]) == ("failed", code)
    assert (await payments.pay(order_id)).status_code == 201
    assert [e.data["code"] for e in await payments.events(PAYMENT_FAILED, 3)] == [
        "card_declined",
        "insufficient_funds",
        "expired_card",
    ]


async def test_only_a_reserved_order_of_ones_own_can_be_paid_for(payments: PaymentsClient) -> None:
    """Seed 001 charged a cancelled order, and a completed one a second time."""
    orders = {status: new_order_id() for status in ("served", "cancelled", "expired", "failed")}
    for status, order_id in orders.items():
        await payments.known(snapshot(order_id, status, version=3))
    pending, unknown, bobs = new_order_id(), new_order_id(), new_order_id()
    await payments.known(snapshot(bobs, customer="bob"))
    async with kitchen_answering(payments.app, {pending: snapshot(pending, "pending", 1)}):
        for status, order_id in [*orders.items(), ("pending", pending)]:
            r = await payments.pay(order_id)
            assert r.status_code == 409, r.text
            assert problem(r)["type"].endswith("/order-not-payable") and problem(r)["order_status"] == status
        for order_id in (unknown, bobs):  # no such order, and someone else's: the same answer
            r = await payments.pay(order_id)
            assert r.status_code == 404 and [e["field"] for e in problem(r)["errors"]] == ["order_id"]
    assert await payments.db.fetchval("SELECT count(*) FROM payments") == 0


async def test_the_same_key_and_body_replay_the_first_answer_and_another_body_is_refused(
    payments: PaymentsClient,
) -> None:
    order_id = new_order_id()
    await payments.known(snapshot(order_id))
    declined = await payments.pay(order_id, "tok_chargeDeclined", key="k-decline")
    again = await payments.pay(order_id, "tok_chargeDeclined", key="k-decline")
    assert (again.status_code, again.headers["idempotent-replayed"]) == (402, "true")
    assert {**again.json(), "request_id": None} == {**declined.json(), "request_id": None}
    first = await payments.pay(order_id, key="k-1")
    replayed = await payments.pay(order_id, key="k-1")
    assert (replayed.status_code, replayed.json(), replayed.headers["idempotent-replayed"]) == (
        201,
        first.json(),
        "true",
    )
    reused = await payments.pay(order_id, "tok_chargeDeclined", key="k-1")
    assert reused.status_code == 422
    assert problem(reused)["code"] == "idempotency_error" and problem(reused)["errors"][0]["field"] == "Idempotency-Key"
    # Keys are per customer: bob's "k-1" is his own (and this is not his order).
    assert (await payments.pay(order_id, sub="bob", key="k-1")).status_code == 404
    assert await payments.db.fetchval("SELECT count(*) FROM payments WHERE status = 'succeeded'") == 1


async def test_a_processing_error_is_a_503_that_took_nothing_and_the_same_request_again_pays(
    payments: PaymentsClient,
) -> None:
    order_id = new_order_id()
    await payments.known(snapshot(order_id))
    r = await payments.pay(order_id, "tok_processingError", key="k-1")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert problem(r)["type"].endswith("/payment-provider-unavailable")
    retried = await payments.pay(order_id, "tok_processingError", key="k-1")
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    statuses = await payments.db.fetch("SELECT status, failure_code FROM payments ORDER BY created_at")
    assert [tuple(s) for s in statuses] == [("failed", "processing_error"), ("succeeded", None)]


@pytest.mark.parametrize("payments_settings", [{"sandbox_latency_ms": 1500}])
async def test_a_request_with_a_key_still_running_is_a_409_until_it_has_answered(payments: PaymentsClient) -> None:
    order_id = new_order_id()
    await payments.known(snapshot(order_id))
    first = asyncio.create_task(payments.pay(order_id, key="k-slow"))

    async def charging() -> bool:
        return bool(await payments.db.fetchval("SELECT count(*) FROM payments WHERE status = 'processing'"))

    await eventually(charging, 10, "the first request asking the provider")
    running = await payments.pay(order_id, key="k-slow")
    assert running.status_code == 409 and problem(running)["type"].endswith("/idempotent-request-in-progress")
    assert running.headers["retry-after"] == "1"
    answered = await first
    assert answered.status_code == 201
    assert (await payments.pay(order_id, key="k-slow")).json() == answered.json()
