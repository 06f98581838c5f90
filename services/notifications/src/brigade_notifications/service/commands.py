"""What the service is asked to do (imperative): by the other services' events and by its users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from brigade_notifications.domain.facts import NewDish, OrderChange, Payment, Registration, RolesChange


@dataclass(frozen=True)
class RecordRegistration:
    user: Registration
    at: datetime


@dataclass(frozen=True)
class RecordRolesChange:
    change: RolesChange
    at: datetime


@dataclass(frozen=True)
class NotifyOrderChange:
    order: OrderChange
    at: datetime


class PaymentOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class NotifyPayment:
    payment: Payment
    outcome: PaymentOutcome
    at: datetime


@dataclass(frozen=True)
class NotifyDishAdded:
    dish: NewDish
    at: datetime


@dataclass(frozen=True)
class MarkRead:
    user_id: str
    notification_id: str


@dataclass(frozen=True)
class MarkAllRead:
    user_id: str


@dataclass(frozen=True)
class RetryMail:
    mail_id: str
