"""Messages owned by the payments context."""

from __future__ import annotations

from pydantic import Field

from brigade_contracts._base import Message

PAYMENT_SUCCEEDED = "payments.payment.succeeded.v1"
PAYMENT_FAILED = "payments.payment.failed.v1"
PAYMENT_REFUNDED = "payments.payment.refunded.v1"


class PaymentSucceeded(Message):
    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int = Field(gt=0)


class PaymentFailed(Message):
    """A charge was declined, or the provider could not process it; nothing was taken."""

    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int
    reason: str
    # Stripe's decline codes: card_declined, insufficient_funds, expired_card, processing_error.
    code: str | None = None


class PaymentRefunded(Message):
    """A successful charge was given back (the order could not be served: it had expired or been
    cancelled by the time the payment reached the kitchen)."""

    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int = Field(gt=0)
    reason: str
