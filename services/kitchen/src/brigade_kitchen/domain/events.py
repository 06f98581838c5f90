"""What happens in the kitchen, as the model records it. Mapped to wire messages at the edge
(adapters/messages.py); nothing here knows a subject or an envelope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from brigade_contracts.kitchen import OrderStatus, PantryReason, StepKind


class Event:
    """Base of the kitchen's events."""


@dataclass(frozen=True)
class OrderState:
    """An order as everyone else sees it; `version` grows by one with every change of state."""

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


@dataclass(frozen=True)
class OrderChanged(Event):
    """The order entered `order.status` (placed when that is `pending`); `at` is stamped when it is
    stored (brigade_kitchen.domain.journey): a step of the order's journey too."""

    order: OrderState
    at: datetime | None = None


@dataclass(frozen=True)
class StepTaken(Event):
    """A step of the order's journey that is not a change of its state: supply requested, bought at
    the market, delivered, failed. `key` is its identity (the same step seen twice has one key);
    `at` is when it happened where that is known (a purchase: the warehouse's time), else stamped
    when it is stored."""

    order_id: str
    customer_id: str
    key: str
    kind: StepKind
    ingredient: str | None = None
    amount: int | None = None
    detail: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class SupplyRequested(Event):
    """The pantry was short: the warehouse is asked for `amount` of `ingredient` for the order."""

    request_id: str
    order_id: str
    ingredient: str
    amount: int


@dataclass(frozen=True)
class ExpiryScheduled(Event):
    """A reserved order must be checked for payment at `expires_at`."""

    order_id: str
    expires_at: datetime


@dataclass(frozen=True)
class PantryMoved(Event):
    """A row of the pantry ledger, with the balances after it and the row's version after it."""

    movement_id: int
    ingredient: str
    delta: int
    reason: PantryReason
    on_hand: int
    reserved: int
    order_id: str | None
    version: int
    created_at: datetime


@dataclass(frozen=True)
class Held:
    """One ingredient's hold changed by `delta` (negative: released), with its balances after."""

    ingredient: str
    delta: int
    on_hand: int
    reserved: int
    version: int


@dataclass(frozen=True)
class PantryHeld(Event):
    """What an order holds of the pantry changed (placed: held; cancelled, expired, failed: released),
    without a ledger row: each ingredient's balances after it."""

    order_id: str
    balances: tuple[Held, ...]


@dataclass(frozen=True)
class PaymentRefused(Event):
    """A payment the order cannot take (it is no longer reserved, or the payment does not pay for it):
    nothing is served, and payments gives the money back."""

    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int
    order_status: OrderStatus
    reason: str


def order_of(event: Event) -> str | None:
    """The id of the order the event is about (None: a movement of no order's, a dish's change)."""
    if isinstance(event, OrderChanged):
        return event.order.order_id
    order_id: str | None = getattr(event, "order_id", None)
    return order_id


T = TypeVar("T")


def spoken_for(speakers: Mapping[tuple[str, str | None], T], event: Event) -> T | None:
    """Who speaks for the event, of `speakers` keyed by (order id, step key or None): the one given
    for its step of the journey, else the one given for its order."""
    order_id = order_of(event)
    if order_id is None:
        return None
    if isinstance(event, StepTaken) and (order_id, event.key) in speakers:
        return speakers[(order_id, event.key)]
    return speakers.get((order_id, None))
