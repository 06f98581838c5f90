"""What the payments API shows, with who may see it: read straight from the read side."""

from __future__ import annotations

from datetime import datetime

from brigade_payments.domain.errors import UnknownPayment
from brigade_payments.domain.model import PaymentState
from brigade_payments.service.ports import PaymentsViews


async def visible_payment(views: PaymentsViews, payment_id: str, *, viewer: str, is_staff: bool) -> PaymentState:
    """The payment, when `viewer` made it or is staff; otherwise it does not exist for them."""
    payment = await views.payment(payment_id)
    if payment is None or (payment.customer_id != viewer and not is_staff):
        raise UnknownPayment(payment_id)
    return payment


async def visible_payments(
    views: PaymentsViews,
    *,
    viewer: str,
    is_staff: bool,
    order_id: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[PaymentState]:
    """The viewer's payments (staff: everyone's), newest first, of one order or all."""
    customer = None if is_staff else viewer
    return await views.payments(customer_id=customer, order_id=order_id, before=before, limit=limit)
