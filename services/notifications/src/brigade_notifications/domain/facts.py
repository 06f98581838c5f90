"""What happened elsewhere, as this service needs to know it: the other contexts' events, mapped from
their wire contracts at the edge (entrypoints/consumers.py). Nothing here knows a subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from brigade_contracts.auth import Role
from brigade_contracts.kitchen import OrderStatus


@dataclass(frozen=True)
class Registration:
    """A user signed up."""

    user_id: str
    email: str
    display_name: str
    roles: frozenset[Role]


@dataclass(frozen=True)
class RolesChange:
    user_id: str
    roles: frozenset[Role]


@dataclass(frozen=True)
class OrderChange:
    """An order entered `status`; `version` grows by one with every change."""

    order_id: str
    customer_id: str
    dish_name: str
    quantity: int
    total_cents: int
    status: OrderStatus
    version: int
    expires_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Payment:
    """A payment's outcome: succeeded, failed (with the reason) or refunded (with the reason)."""

    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int
    reason: str | None = None


@dataclass(frozen=True)
class NewDish:
    dish_id: str
    name: str
    description: str
    price_cents: int
