"""What the warehouse's use cases need from the world, as protocols: units of work and their
repositories, the market, the read side. Adapters implement them; unit tests fake them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_common.transactional import Transactional
from brigade_contracts.warehouse import StockReason
from brigade_warehouse.domain.model import SupplyRequest

Clock = Callable[[], datetime]


class Requests(Protocol):
    def open(self, request: SupplyRequest) -> None:
        """Register a request at commit, once: a repeat of the same id changes nothing."""

    async def get_all(self, request_ids: Sequence[str]) -> dict[str, SupplyRequest]:
        """The requests there are of `request_ids`, by id, locked in one order until the unit of work
        ends (their settlements are written at commit)."""


class Stock(Protocol):
    async def lock_all(self, ingredients: Iterable[str]) -> dict[str, int]:
        """Lock the ingredients' rows (each created at zero when missing), in one order: what is free
        of each (on hand and not held for a request)."""

    def hold(self, ingredient: str, delta: int) -> None:
        """Hold `delta` more units on hand for requests (fewer, when negative), at commit."""

    def move(self, ingredient: str, delta: int, reason: StockReason, request_id: str, *, released: int = 0) -> None:
        """A ledger row and the balance it changes, written together at commit (`released` units held
        for the request leave the held count with them); its `StockMoved` is sent then, in the order
        the moves and purchases were made."""


class Purchases(Protocol):
    def record(self, request_id: str, ingredient: str, requested: int, received: int, supplier: str) -> None:
        """A market purchase, written at commit; its `PurchaseMade` is sent then, in order."""


class WarehouseUnitOfWork(Transactional, Protocol):
    @property
    def requests(self) -> Requests: ...

    @property
    def stock(self) -> Stock: ...

    @property
    def purchases(self) -> Purchases: ...

    def mark_processed(self, entry: InboxEntry) -> None:
        """The message `entry` names is done, as of this unit of work's commit."""

    def speak_for(self, request_id: str, context: MessageContext) -> None:
        """The messages of the request's events carry `context` (its command's), not the unit of work's."""


UnitOfWorkFactory = Callable[[MessageContext, InboxEntry | None], WarehouseUnitOfWork]


@dataclass(frozen=True)
class Bought:
    amount: int
    supplier: str


class Market(Protocol):
    async def buy(self, ingredient: str, amount: int, timeout_s: float) -> Bought:
        """Up to `amount` units (possibly none); `MarketUnavailable` when the market does not answer."""


class Progress(Protocol):
    """The message being worked on: its inbox entry, and a way to say the work goes on."""

    @property
    def inbox(self) -> InboxEntry: ...

    async def keep_alive(self) -> None: ...


@dataclass(frozen=True)
class StockLevel:
    ingredient: str
    on_hand: int
    reserved: int
    version: int


@dataclass(frozen=True)
class MovementRow:
    id: int
    ingredient: str
    delta: int
    reason: StockReason
    request_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class PurchaseRow:
    id: int
    request_id: str
    ingredient: str
    requested: int
    received: int
    supplier: str
    created_at: datetime


class WarehouseViews(Protocol):
    async def stock(self) -> list[StockLevel]: ...

    async def movements(self, *, before: int | None, limit: int) -> list[MovementRow]: ...

    async def purchases(self, *, before: int | None, limit: int) -> list[PurchaseRow]: ...


Pause = Callable[[], Awaitable[None]]
