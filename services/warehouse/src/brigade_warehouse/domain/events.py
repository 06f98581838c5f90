"""What happens in the warehouse, as the model records it (mapped to wire messages in adapters/messages.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from brigade_contracts.warehouse import StockReason


class Event:
    """Base of the warehouse's events."""


@dataclass(frozen=True)
class SupplyDelivered(Event):
    request_id: str
    order_id: str
    ingredient: str
    amount: int


@dataclass(frozen=True)
class SupplyFailed(Event):
    request_id: str
    order_id: str
    ingredient: str
    amount: int
    reason: str


@dataclass(frozen=True)
class StockMoved(Event):
    """A row of the stock ledger, with the balance and the row's version after it."""

    movement_id: int
    ingredient: str
    delta: int
    reason: StockReason
    balance: int
    request_id: str | None
    version: int
    created_at: datetime


@dataclass(frozen=True)
class PurchaseMade(Event):
    """The warehouse bought from the market (possibly 0 units)."""

    purchase_id: int
    request_id: str
    ingredient: str
    requested: int
    received: int
    supplier: str
    created_at: datetime
