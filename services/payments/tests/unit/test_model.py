"""The payments model: who may pay for what, how much, the payment's transitions, and the replica's
version rule. Pure."""

from __future__ import annotations

import pytest

from brigade_contracts.kitchen import OrderStatus
from brigade_payments.domain.errors import InvalidPaymentTransition, OrderNotPayable, UnknownOrder
from brigade_payments.domain.events import PaymentFailed, PaymentRefunded, PaymentSucceeded
from brigade_payments.domain.model import OrderState, Payment, PaymentStatus
from services.payments.tests.unit.fakes import NOW, ORDER


def start(order: OrderState = ORDER, payer: str = "alice") -> Payment:
    return Payment.start("pay-1", order, payer, "tok_visa", NOW)


def test_a_payment_charges_the_orders_price_to_its_customer() -> None:
    payment = start()
    assert (payment.order_id, payment.customer_id, payment.amount_cents) == (ORDER.order_id, "alice", 900)
    assert payment.status is PaymentStatus.PROCESSING and payment.events == []


def test_someone_elses_order_does_not_exist_for_them() -> None:
    with pytest.raises(UnknownOrder):
        start(payer="mallory")


@pytest.mark.parametrize("status", [s for s in OrderStatus if s is not OrderStatus.RESERVED])
def test_only_a_reserved_order_can_be_paid_for(status: OrderStatus) -> None:
    """Seed 001 charged a cancelled order, and a completed one again."""
    with pytest.raises(OrderNotPayable) as refused:
        start(OrderState(ORDER.order_id, "alice", 900, status, 3))
    assert refused.value.status is status


def test_a_success_and_a_refund_each_record_their_event_and_a_refund_happens_once() -> None:
    payment = start()
    payment.succeed("ch_1")
    assert payment.status is PaymentStatus.SUCCEEDED and payment.charge_id == "ch_1"
    assert payment.refund("re_1", "the order had expired") is True
    assert payment.refund("re_1", "again") is False
    assert payment.events == [
        PaymentSucceeded("pay-1", ORDER.order_id, "alice", 900),
        PaymentRefunded("pay-1", ORDER.order_id, "alice", 900, "the order had expired"),
    ]
    assert payment.state().refund_reason == "the order had expired"


def test_a_decline_is_final_and_takes_nothing_back() -> None:
    payment = start()
    payment.fail("insufficient_funds", "Your card has insufficient funds.")
    assert payment.events == [
        PaymentFailed("pay-1", ORDER.order_id, "alice", 900, "Your card has insufficient funds.", "insufficient_funds")
    ]
    with pytest.raises(InvalidPaymentTransition):
        payment.succeed("ch_1")
    with pytest.raises(InvalidPaymentTransition):
        payment.refund("re_1", "nothing was taken")


def test_the_replica_takes_only_newer_snapshots_and_a_gap_loses_nothing() -> None:
    held = OrderState(ORDER.order_id, "alice", 900, OrderStatus.PENDING, 1)
    expired = OrderState(ORDER.order_id, "alice", 900, OrderStatus.EXPIRED, 3)  # version 2 never came
    assert expired.supersedes(None) and expired.supersedes(held)
    assert not held.supersedes(expired)  # late: never moves the replica backwards
    assert not expired.supersedes(expired)  # a duplicate
