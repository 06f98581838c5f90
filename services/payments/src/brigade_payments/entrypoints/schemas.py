"""The payments service's HTTP models: what its API reads and answers (mapped from the model here only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from brigade_common.pagination import TimePageQuery
from brigade_payments.adapters.sandbox import SandboxToken
from brigade_payments.domain.model import PaymentState, PaymentStatus


class PayBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    order_id: uuid.UUID = Field(description="The order to pay for: one of yours, reserved")
    token: SandboxToken = Field(
        description="The card, as a token of the payment provider. The sandbox knows Stripe's test tokens: "
        "`tok_visa` succeeds; `tok_chargeDeclined`, `tok_chargeDeclinedInsufficientFunds` and "
        "`tok_chargeDeclinedExpiredCard` are declined (402); `tok_processingError` fails the first time "
        "for an order (503) and succeeds when retried."
    )


class PaymentPath(BaseModel):
    payment_id: uuid.UUID


class PaymentListQuery(TimePageQuery):
    order_id: uuid.UUID | None = Field(default=None, description="Only the payments of this order")


class PaymentOut(BaseModel):
    """A payment: one attempt to charge an order's price to a card."""

    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int = Field(gt=0, description="The order's price, in cents (never an amount the client names)")
    status: PaymentStatus = Field(
        description="`processing` while the provider is asked; `succeeded`; `failed` (declined or not "
        "processed: nothing was taken); `refunded` (the kitchen could not serve the order: the money went back)"
    )
    created_at: datetime
    failure_code: str | None = Field(
        default=None, description="Why it failed: `card_declined`, `insufficient_funds`, `expired_card`, …"
    )
    failure_message: str | None = Field(default=None, description="The provider's message, for the customer")
    refund_reason: str | None = Field(default=None, description="Why the money went back")

    @classmethod
    def of(cls, payment: PaymentState) -> PaymentOut:
        return cls(**vars(payment))
