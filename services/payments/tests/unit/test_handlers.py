"""The use cases the kitchen's messages drive, against fakes: the replica never moves backwards, and a
refused payment is refunded once. No servers."""

from __future__ import annotations

import pytest

from brigade_common.messaging import AlreadyProcessed, InboxEntry
from brigade_contracts.kitchen import OrderStatus
from brigade_payments.adapters.sandbox import SandboxProvider
from brigade_payments.domain.errors import CardDeclined, InvalidPaymentTransition, UnknownPayment
from brigade_payments.domain.events import PaymentRefunded
from brigade_payments.domain.model import OrderState, PaymentStatus
from brigade_payments.service import commands as c
from brigade_payments.service.charges import Deps, pay_order
from brigade_payments.service.handlers import apply_order_snapshot, refund_payment
from services.payments.tests.unit.fakes import (
    ORDER,
    FakeClock,
    FakeKitchen,
    FakeUnitOfWork,
    FakeViews,
    PaymentsState,
    units,
)

REASON = "the order was expired (not paid in time) when the payment reached the kitchen"


def deps(state: PaymentsState) -> Deps:
    return Deps(FakeClock(), SandboxProvider(), FakeKitchen(), FakeViews(state))


def snapshot(version: int, status: OrderStatus) -> c.ApplyOrderSnapshot:
    return c.ApplyOrderSnapshot(OrderState(ORDER.order_id, "alice", 900, status, version))


class Delivery:
    def __init__(self, message_id: str) -> None:
        self.inbox = InboxEntry("payments-refusals", message_id)

    async def keep_alive(self) -> None:
        return None


async def test_out_of_order_and_repeated_snapshots_never_move_the_replica_backwards() -> None:
    state = PaymentsState()
    arrivals = [(3, OrderStatus.EXPIRED), (2, OrderStatus.RESERVED), (3, OrderStatus.EXPIRED), (1, OrderStatus.PENDING)]
    applied = []
    for n, (version, status) in enumerate(arrivals):
        uow = FakeUnitOfWork(state, InboxEntry("payments-orders", f"m-{n}"))
        applied.append(await apply_order_snapshot(snapshot(version, status), uow, deps(state)))
    assert applied == [True, False, False, False]
    assert state.orders[ORDER.order_id].status is OrderStatus.EXPIRED
    with pytest.raises(AlreadyProcessed):  # the same message again stops at the inbox
        await apply_order_snapshot(
            snapshot(4, OrderStatus.SERVED), FakeUnitOfWork(state, InboxEntry("payments-orders", "m-0")), deps(state)
        )


async def test_a_missing_version_does_not_hold_the_replica_up() -> None:
    """Seed 001's listeners applied an event only over `version - 1`: one lost event and the record
    never moved again. Each snapshot is the whole order, so a newer one is applied over a gap."""
    state = PaymentsState()
    for n, (version, status) in enumerate([(1, OrderStatus.PENDING), (3, OrderStatus.CANCELLED)]):
        await apply_order_snapshot(
            snapshot(version, status), FakeUnitOfWork(state, InboxEntry("o", str(n))), deps(state)
        )
    assert state.orders[ORDER.order_id] == OrderState(ORDER.order_id, "alice", 900, OrderStatus.CANCELLED, 3)


async def test_a_refused_payment_is_refunded_once() -> None:
    state = PaymentsState.with_order()
    d = deps(state)
    paid = (
        await pay_order(
            c.PayOrder("00000000-0000-4000-8000-000000000001", ORDER.order_id, "alice", "tok_visa"), units(state), d
        )
    ).payment
    await refund_payment(c.RefundPayment(paid.payment_id, REASON), units(state), d, Delivery("r-1"))
    await refund_payment(c.RefundPayment(paid.payment_id, REASON), units(state), d, Delivery("r-2"))
    refunded = state.payments[paid.payment_id]
    assert refunded.status is PaymentStatus.REFUNDED and refunded.refund_reason == REASON
    assert state.events(PaymentRefunded) == [PaymentRefunded(paid.payment_id, ORDER.order_id, "alice", 900, REASON)]
    assert {InboxEntry("payments-refusals", "r-1"), InboxEntry("payments-refusals", "r-2")} <= state.inbox


async def test_a_refusal_of_a_payment_never_made_or_never_taken_is_poison() -> None:
    state = PaymentsState.with_order()
    with pytest.raises(UnknownPayment):
        await refund_payment(c.RefundPayment("pay-nobody-made", REASON), units(state), deps(state), Delivery("r-1"))
    with pytest.raises(CardDeclined) as declined:
        await pay_order(
            c.PayOrder("00000000-0000-4000-8000-000000000002", ORDER.order_id, "alice", "tok_chargeDeclined"),
            units(state),
            deps(state),
        )
    failed = declined.value.payment
    with pytest.raises(InvalidPaymentTransition):
        await refund_payment(c.RefundPayment(failed.payment_id, REASON), units(state), deps(state), Delivery("r-2"))
    assert state.events(PaymentRefunded) == []
