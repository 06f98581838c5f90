"""Messages owned by the kitchen context."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from brigade_contracts._base import Message

ORDER_PLACED = "kitchen.order.placed.v1"
ORDER_RESERVED = "kitchen.order.reserved.v1"
ORDER_SERVED = "kitchen.order.served.v1"
ORDER_CANCELLED = "kitchen.order.cancelled.v1"
ORDER_EXPIRED = "kitchen.order.expired.v1"
ORDER_FAILED = "kitchen.order.failed.v1"
PANTRY_MOVED = "kitchen.pantry.moved.v1"
# The scheduled message fires this (JetStream message schedules, `Nats-Schedule: @at …`).
ORDER_EXPIRY_DUE = "kitchen.order.expiry_due.v1"
ORDER_EVENTS = "kitchen.order.*.v1"


def expiry_schedule_subject(order_id: str) -> str:
    """One schedule subject per order, so a re-published schedule replaces the earlier one."""
    return f"kitchen.schedule.order_expiry.{order_id}"


OrderStatus = Literal["pending", "reserved", "served", "cancelled", "expired", "failed"]


class OrderSnapshot(Message):
    """Event-carried state of an order; `version` grows by one with every change."""

    order_id: str
    customer_id: str
    dish_id: str
    dish_name: str
    quantity: int
    total_cents: int
    status: OrderStatus
    version: int
    expires_at: datetime | None = None
    reason: str | None = None


class OrderExpiryDue(Message):
    order_id: str
    expires_at: datetime


class PantryMoved(Message):
    """One row of the kitchen pantry ledger, with the balances after it."""

    movement_id: int
    ingredient: str
    delta: int
    reason: Literal["seed", "delivery", "consume"]
    on_hand: int
    reserved: int
    order_id: str | None = None
