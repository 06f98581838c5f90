"""Messages owned by the warehouse context (its command inbox and its events)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from brigade_contracts._base import Message

SUPPLY_CMD = "warehouse.cmd.supply.v1"
SUPPLY_DELIVERED = "warehouse.supply.delivered.v1"
SUPPLY_FAILED = "warehouse.supply.failed.v1"
STOCK_MOVED = "warehouse.stock.moved.v1"
PURCHASE_MADE = "warehouse.purchase.made.v1"

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Ingredient = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")


class SupplyIngredient(Message):
    """Command: deliver `amount` units of `ingredient` to the kitchen for `order_id`."""

    request_id: str = Field(pattern=UUID_PATTERN, description="Idempotency key of this supply (a UUID)")
    order_id: str = Field(min_length=1, max_length=64)
    ingredient: str = Ingredient
    amount: int = Field(gt=0, le=1_000_000)


class SupplyDelivered(Message):
    """The warehouse sent `amount` units to the kitchen for this request (exactly once per request)."""

    request_id: str
    order_id: str
    ingredient: str
    amount: int = Field(gt=0)


class SupplyFailed(Message):
    """The warehouse could not supply this request before its deadline."""

    request_id: str
    order_id: str
    ingredient: str
    amount: int
    reason: str


class StockReason(StrEnum):
    """Why the stock ledger moved."""

    SEED = "seed"
    PURCHASE = "purchase"
    SUPPLY = "supply"


class StockMoved(Message):
    """One row of the warehouse stock ledger."""

    movement_id: int
    ingredient: str
    delta: int
    reason: StockReason
    balance: int
    request_id: str | None = None
    version: int
    created_at: datetime


class PurchaseMade(Message):
    """The warehouse bought from the market (possibly 0 units)."""

    purchase_id: int
    request_id: str
    ingredient: str
    requested: int
    received: int
    supplier: str
    # When the purchase row was written. Optional: purchases announced before it was added (still in
    # the stream, read by the kitchen's journey consumer) do not carry it.
    created_at: datetime | None = None
