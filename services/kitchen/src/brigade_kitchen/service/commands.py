"""What the kitchen is asked to do (imperative), by customers and by the other services' messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from brigade_common.idempotency import IdempotencyKey


@dataclass(frozen=True)
class PlaceOrder:
    order_id: str
    customer_id: str
    dish_id: str
    quantity: int
    idempotency: IdempotencyKey | None = None
    dish_version: int | None = None  # the version the customer saw, when they say


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    by: str
    is_staff: bool


@dataclass(frozen=True)
class ApplyDelivery:
    request_id: str
    amount: int


@dataclass(frozen=True)
class ApplySupplyFailure:
    request_id: str
    reason: str


@dataclass(frozen=True)
class RecordPurchase:
    """The warehouse bought at the market for a supply request (`at`: when, by its clock)."""

    purchase_id: int
    request_id: str
    received: int
    supplier: str
    at: datetime


@dataclass(frozen=True)
class ServePaidOrder:
    order_id: str
    payment_id: str
    customer_id: str
    amount_cents: int


@dataclass(frozen=True)
class ExpireOrder:
    """Settle the order if its deadline passed: `scheduled_for` is the deadline the scheduled check
    was set for (None from the sweep, which looks at every overdue order)."""

    order_id: str
    scheduled_for: datetime | None = None
