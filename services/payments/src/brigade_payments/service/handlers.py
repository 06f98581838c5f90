"""The use cases the kitchen's messages drive: keeping the order replica, and refunding a payment
the kitchen could not serve with. (Charging, which customers drive, is service/charges.py.)"""

from __future__ import annotations

from collections.abc import Callable

from brigade_payments.domain.errors import InvalidPaymentTransition, UnknownPayment
from brigade_payments.domain.model import PaymentStatus
from brigade_payments.service import commands as c
from brigade_payments.service.charges import Deps
from brigade_payments.service.ports import PaymentsUnitOfWork, Progress


async def apply_order_snapshot(cmd: c.ApplyOrderSnapshot, uow: PaymentsUnitOfWork, deps: Deps) -> bool:
    """Keep the kitchen's order if it is newer than what the replica holds; whether it was."""
    async with uow:
        held = await uow.orders.get(cmd.order.order_id)
        newer = cmd.order.supersedes(held)
        if newer:
            uow.orders.save(cmd.order)
        await uow.commit()
    return newer


async def refund_payment(
    cmd: c.RefundPayment, uow: Callable[[], PaymentsUnitOfWork], deps: Deps, progress: Progress
) -> None:
    """Give the money back: the provider refunds the charge (a second refund of it refunds nothing),
    then the payment is `refunded` and `payments.payment.refunded.v1` goes out, in the transaction
    that marks the kitchen's refusal processed. A crash in between refunds again, harmlessly."""
    async with uow() as u:
        payment = await u.payments.get(cmd.payment_id)
    if payment is None:
        raise UnknownPayment(cmd.payment_id)
    refund_id = None
    if payment.status is PaymentStatus.SUCCEEDED:
        assert payment.charge_id is not None, "a succeeded payment has its charge"
        refund_id = await deps.provider.refund(payment.charge_id, payment.amount_cents)
    elif payment.status is not PaymentStatus.REFUNDED:
        # The kitchen only hears of succeeded payments: a refusal of any other is a message to look at.
        raise InvalidPaymentTransition(payment.status, PaymentStatus.REFUNDED)
    async with uow() as u:
        payment = await u.payments.get(cmd.payment_id)
        assert payment is not None
        if refund_id is not None:
            payment.refund(refund_id, cmd.reason)  # False when another delivery refunded it meanwhile
        u.mark_processed(progress.inbox)
        await u.commit()
