"""What the payments service is asked to do (imperative), by customers and by other services' messages."""

from __future__ import annotations

from dataclasses import dataclass

from brigade_common.idempotency import IdempotencyKey
from brigade_payments.domain.model import OrderState


@dataclass(frozen=True)
class PayOrder:
    payment_id: str
    order_id: str
    customer_id: str
    token: str
    idempotency: IdempotencyKey | None = None


@dataclass(frozen=True)
class ApplyOrderSnapshot:
    """The kitchen says the order is now `order` (or was: snapshots may arrive late, twice, out of order)."""

    order: OrderState


@dataclass(frozen=True)
class RefundPayment:
    """The kitchen could not serve the order the payment paid for: give the money back."""

    payment_id: str
    reason: str


@dataclass(frozen=True)
class SettleStuckPayment:
    """A payment left processing by a request that died: ask the provider again, and settle it."""

    payment_id: str
