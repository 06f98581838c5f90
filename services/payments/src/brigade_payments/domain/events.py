"""What happens to payments, as the model records it. Mapped to wire messages at the edge
(adapters/messages.py); nothing here knows a subject or an envelope."""

from __future__ import annotations

from dataclasses import dataclass


class Event:
    """Base of the payments service's events."""


@dataclass(frozen=True)
class PaymentSucceeded(Event):
    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int


@dataclass(frozen=True)
class PaymentFailed(Event):
    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int
    reason: str
    code: str


@dataclass(frozen=True)
class PaymentRefunded(Event):
    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int
    reason: str
