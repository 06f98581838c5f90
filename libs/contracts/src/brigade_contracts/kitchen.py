"""Messages owned by the kitchen context."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from brigade_contracts._base import Message


class OrderStatus(StrEnum):
    """The states of an order: the one list of them (the kitchen's state machine uses it too)."""

    PENDING = "pending"
    RESERVED = "reserved"
    SERVED = "served"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


# The event an order emits on entering each state (an order enters `pending` by being placed).
ORDER_EVENT_TYPES: dict[OrderStatus, str] = {
    status: f"kitchen.order.{'placed' if status is OrderStatus.PENDING else status.value}.v1" for status in OrderStatus
}
ORDER_PLACED = ORDER_EVENT_TYPES[OrderStatus.PENDING]
ORDER_RESERVED = ORDER_EVENT_TYPES[OrderStatus.RESERVED]
ORDER_SERVED = ORDER_EVENT_TYPES[OrderStatus.SERVED]
ORDER_CANCELLED = ORDER_EVENT_TYPES[OrderStatus.CANCELLED]
ORDER_EXPIRED = ORDER_EVENT_TYPES[OrderStatus.EXPIRED]
ORDER_FAILED = ORDER_EVENT_TYPES[OrderStatus.FAILED]
PANTRY_MOVED = "kitchen.pantry.moved.v1"
# An order's holds on the pantry changed (`reserved`, without a ledger row).
PANTRY_HELD = "kitchen.pantry.held.v1"
PANTRY_EVENTS = "kitchen.pantry.*.v1"
# The kitchen could not serve a paid order (it had expired or been cancelled): payments refunds it.
PAYMENT_REFUSED = "kitchen.payment.refused.v1"
DISH_CREATED = "kitchen.dish.created.v1"
DISH_UPDATED = "kitchen.dish.updated.v1"
DISH_RETIRED = "kitchen.dish.retired.v1"
DISH_EVENTS = "kitchen.dish.*.v1"
# Request-reply (NATS service `kitchen`): one order's current snapshot, for a replica that has not
# heard of it yet. Outside `kitchen.>` (the KITCHEN stream), like every request-reply subject.
ORDER_GET = "rpc.kitchen.order.get"
# The scheduled message fires this (JetStream message schedules, `Nats-Schedule: @at …`).
ORDER_EXPIRY_DUE = "kitchen.order.expiry_due.v1"
ORDER_EVENTS = "kitchen.order.*.v1"
# A step of an order's journey that is not a change of its state (those are the order events).
# Not under `kitchen.order.*`: whoever reads those expects an order snapshot.
JOURNEY_STEP = "kitchen.journey.step.v1"


def expiry_schedule_subject(order_id: str) -> str:
    """One schedule subject per order, so a re-published schedule replaces the earlier one."""
    return f"kitchen.schedule.order_expiry.{order_id}"


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


class StepKind(StrEnum):
    """What a journey step that is not a change of the order's state says happened."""

    REQUESTED = "requested"  # the pantry was short: the warehouse was asked for `amount` of `ingredient`
    PURCHASED = "purchased"  # the warehouse bought `amount` of `ingredient` at the market (`detail`: the supplier)
    DELIVERED = "delivered"  # the warehouse delivered `amount` of `ingredient` to the kitchen
    SUPPLY_FAILED = "supply_failed"  # the warehouse gave up on `ingredient` (`detail`: why)


class JourneyStep(Message):
    """One step of an order's journey besides its changes of state. `key` is the step's identity:
    the same step seen twice has the same key (`requested:<request id>`, `purchase:<purchase id>`,
    `delivered:<request id>`, `supply_failed:<request id>`); a state step's key is `v<version>`."""

    order_id: str
    customer_id: str
    key: str = Field(min_length=1, max_length=100)
    kind: StepKind
    ingredient: str | None = None
    amount: int | None = None
    detail: str | None = None
    at: datetime


class PantryReason(StrEnum):
    """Why the pantry ledger moved."""

    SEED = "seed"
    DELIVERY = "delivery"
    CONSUME = "consume"


class OrderExpiryDue(Message):
    order_id: str
    expires_at: datetime


class PantryMoved(Message):
    """One row of the kitchen pantry ledger, with the balances after it."""

    movement_id: int
    ingredient: str
    delta: int
    reason: PantryReason
    on_hand: int
    reserved: int
    order_id: str | None = None
    version: int
    created_at: datetime


class HeldBalance(Message):
    """One ingredient whose hold changed, with its balances after."""

    ingredient: str
    delta: int
    on_hand: int
    reserved: int
    version: int


class PantryHeld(Message):
    """What an order holds of the pantry changed: held when placed, released when it is cancelled,
    expires or fails. Each ingredient's balances after it (a ledger movement carries its own)."""

    order_id: str
    balances: list[HeldBalance]


class PaymentRefused(Message):
    """A payment arrived for an order the kitchen no longer holds: nothing is served, give it back."""

    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int
    order_status: OrderStatus
    reason: str


class DishSnapshot(Message):
    """Event-carried state of a dish; `version` grows by one with every change."""

    dish_id: str
    name: str
    description: str
    price_cents: int = Field(gt=0)
    version: int
    ingredients: dict[str, int]


class OrderRequest(Message):
    """Ask for one order."""

    order_id: str
