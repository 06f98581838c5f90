"""Charging an order: at most once, whatever the concurrency, and never while the provider is asked
inside a transaction.

A charge is three steps. (1) One unit of work claims the `Idempotency-Key` (if any) and the order's
one charge: a `processing` payment, which the database refuses for an order that has one already.
(2) The provider is asked, outside any transaction, with the payment's id as the attempt id, so
asking again is harmless. (3) A second unit of work records the answer (succeeded, or failed: the
order's charge is free again), its event, and the key's result, which a retry with the key replays.
A provider that could not process the charge fails the payment and gives the key up: the retry runs
anew. A process that dies between (1) and (3) leaves the payment processing; `settle_stuck_payment`
finishes it later the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from brigade_common.idempotency import Replay
from brigade_contracts.kitchen import OrderStatus
from brigade_payments.domain.errors import CardDeclined, ProviderUnavailable, UnknownOrder, UnknownPayment
from brigade_payments.domain.model import OrderState, Payment, PaymentState, PaymentStatus
from brigade_payments.service import commands as c
from brigade_payments.service.ports import (
    Approved,
    Clock,
    Declined,
    Kitchen,
    PaymentProvider,
    PaymentsUnitOfWork,
    PaymentsViews,
)

UnitOfWork = Callable[[], PaymentsUnitOfWork]


@dataclass(frozen=True)
class Deps:
    """What the use cases need besides their units of work."""

    clock: Clock
    provider: PaymentProvider
    kitchen: Kitchen
    views: PaymentsViews


@dataclass(frozen=True)
class Charged:
    """A payment that succeeded, or (`replayed`) the one an earlier request with the same key made."""

    payment: PaymentState
    replayed: bool = False


async def pay_order(cmd: c.PayOrder, uow: UnitOfWork, deps: Deps) -> Charged:
    """Charge the order's price to the customer's card: `Charged`, or `CardDeclined` (the order stays
    payable), `ProviderUnavailable` (a retry may succeed), `OrderNotPayable`, `OrderAlreadyCharged`,
    `UnknownOrder`."""
    order = await known_order(cmd.order_id, cmd.customer_id, deps)
    async with uow() as u:
        if cmd.idempotency is not None:
            earlier = await u.idempotency.begin(cmd.idempotency, cmd.payment_id)
            if earlier is not None:
                return _replayed(earlier)
        payment = Payment.start(cmd.payment_id, order, cmd.customer_id, cmd.token, deps.clock())
        u.payments.add(payment)
        await u.commit()
    return await _charge(payment, uow, deps)


async def settle_stuck_payment(cmd: c.SettleStuckPayment, uow: UnitOfWork, deps: Deps) -> PaymentState:
    """Finish a payment whose request died after claiming the order's charge: the provider is asked
    again with the same attempt id (it answers what it did, or charges now), and the answer recorded."""
    async with uow() as u:
        payment = await u.payments.get(cmd.payment_id)
    if payment is None:
        raise UnknownPayment(cmd.payment_id)
    if payment.status is not PaymentStatus.PROCESSING:
        return payment.state()
    try:
        return (await _charge(payment, uow, deps)).payment
    except (CardDeclined, ProviderUnavailable):
        return (await deps.views.payment(cmd.payment_id)) or payment.state()


async def known_order(order_id: str, payer: str, deps: Deps) -> OrderState:
    """The order as the replica holds it; the kitchen's word instead when the replica has not heard
    of it, or holds it still pending: a customer may pay the moment they were told "reserved", before
    that event reached the replica. A settled order never changes: the replica's word is final."""
    held = await deps.views.order(order_id)
    order = held
    if held is None or held.status is OrderStatus.PENDING:
        fresh = await deps.kitchen.order(order_id)
        if fresh is not None and fresh.supersedes(held):
            order = fresh
    if order is None or order.customer_id != payer:
        raise UnknownOrder(order_id)
    return order


async def _charge(payment: Payment, uow: UnitOfWork, deps: Deps) -> Charged:
    try:
        answer = await deps.provider.charge(payment.id, payment.amount_cents, payment.token, payment.order_id)
    except ProviderUnavailable as exc:
        await _settle(payment.id, Declined(exc.code, exc.message), uow, keep_key=False)
        raise
    state = await _settle(payment.id, answer, uow, keep_key=True)
    if state.status is PaymentStatus.FAILED:
        raise CardDeclined(state)
    return Charged(state)


async def _settle(payment_id: str, answer: Approved | Declined, uow: UnitOfWork, *, keep_key: bool) -> PaymentState:
    """Record the provider's answer (unless another request settled the payment meanwhile), with the
    result a retry with the key replays, or (not `keep_key`) giving the key up."""
    async with uow() as u:
        payment = await u.payments.get(payment_id)
        if payment is None:
            raise UnknownPayment(payment_id)
        if payment.status is PaymentStatus.PROCESSING:
            if isinstance(answer, Approved):
                payment.succeed(answer.charge_id)
            else:
                payment.fail(answer.code, answer.message)
        state = payment.state()
        if keep_key:
            await u.idempotency.complete(payment_id, result_of(state))
        else:
            await u.idempotency.release(payment_id)
        await u.commit()
    return state


def _replayed(earlier: Replay) -> Charged:
    state = state_of(earlier.result)
    if state.status is PaymentStatus.FAILED:
        raise CardDeclined(state, replayed=True)
    return Charged(state, replayed=True)


def result_of(state: PaymentState) -> dict[str, Any]:
    """What a request with an `Idempotency-Key` ended with, as the key keeps it (JSON)."""
    return {**vars(state), "status": state.status.value, "created_at": state.created_at.isoformat()}


def state_of(result: dict[str, Any]) -> PaymentState:
    """The payment a key's result holds, as it was when the request ended."""
    return PaymentState(
        **{
            **result,
            "status": PaymentStatus(result["status"]),
            "created_at": datetime.fromisoformat(result["created_at"]),
        }
    )
