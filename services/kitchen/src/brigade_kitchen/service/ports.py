"""What the kitchen's use cases need from the world, as protocols: the unit of work and its
repositories, the read side, the waiters, a clock and an id source. Adapters implement them
(adapters/), unit tests fake them (tests/unit/fakes.py, the waiters in fake_waiters.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from brigade_common.idempotency import IdempotencyKey
from brigade_common.messaging import InboxEntry, MessageContext
from brigade_common.transactional import Transactional
from brigade_contracts.kitchen import OrderStatus, PantryReason
from brigade_kitchen.domain.events import Event, OrderChanged, OrderState, PantryHeld, PantryMoved
from brigade_kitchen.domain.journey import Step
from brigade_kitchen.domain.model import Balance, Dish, Move, Order
from brigade_kitchen.service.commands import PlaceOrder

Clock = Callable[[], datetime]
IdSource = Callable[[], str]


class Orders(Protocol):
    def add(self, order: Order) -> None:
        """A new order, written when the unit of work commits."""

    async def get(self, order_id: str) -> Order | None:
        """The order, locked until the unit of work ends (changes to it are written at commit)."""

    async def for_supply_request(self, request_id: str) -> Order | None:
        """The order a supply request belongs to, locked like `get`."""

    async def for_supply_requests(self, request_ids: Sequence[str]) -> dict[str, Order]:
        """The orders the supply requests belong to, by request (one object for an order named twice;
        an unknown request is left out), locked like `get`, in one order."""

    async def read_for_supply_requests(self, request_ids: Sequence[str]) -> dict[str, Order]:
        """The same orders, read without their locks: only for steps of their journeys (a purchase),
        which change nothing of the order, so they neither wait for a transaction that holds one nor
        hold it up. Changing an order read this way is an error at commit."""


class Dishes(Protocol):
    async def get(self, dish_id: str) -> Dish | None:
        """The dish, while it is on the menu (None once retired)."""

    async def lock(self, dish_id: str) -> Dish | None:
        """The dish on the menu, locked until the unit of work ends (for a change to it)."""

    async def free_id(self, wanted: str) -> str:
        """`wanted`, or `wanted-2`, `wanted-3` … : the first id no dish (retired ones included) has.
        Another unit of work asking for the same `wanted` waits until this one ends."""

    async def add(self, dish: Dish) -> None:
        """`DuplicateDishName` when a dish on the menu has its name."""

    async def save(self, dish: Dish) -> None:
        """Write the dish's new version; `DuplicateDishName` like `add`."""

    async def retire(self, dish: Dish) -> None:
        """Take the dish off the menu at its new version; its row stays, for the orders naming it."""

    async def store_image(self, digest: str, media_type: str, data: bytes) -> None:
        """Keep a picture under its SHA-256 (the same bytes twice are kept once)."""


class Pantry(Protocol):
    async def lock(self, ingredients: Iterable[str]) -> dict[str, Balance]:
        """Lock the ingredients' rows (always in one order, so two units of work never deadlock),
        creating missing ones at zero; their balances."""

    def balances(self, ingredients: Iterable[str]) -> dict[str, Balance]:
        """The rows as this unit of work sees them now: those it locked as it left them, the others
        as it read them (`take_orders`'s)."""

    def hold(self, order_id: str, holds: Mapping[str, int]) -> PantryHeld:
        """Change what is held for the order (`reserved`) by each ingredient's delta (a release is
        negative), on rows locked first; the balances after, as the event that tells it."""

    async def move_all(self, moves: Sequence[Move]) -> list[PantryMoved]:
        """Write each move's ledger row and the balance it changes (and `reserved` by its `hold_delta`),
        on rows locked first, in one round trip; the events that tell them, in order."""


class IdempotencyKeys(Protocol):
    async def claim(self, key: IdempotencyKey, resource_id: str) -> str | None:
        """None when `key` is new (now claimed for `resource_id`), else the earlier resource id."""


@dataclass(frozen=True)
class Intake:
    """What placing an order starts from: the order an earlier request with the same key placed
    (`earlier`, a replay: then nothing else was read), else the dish (None when it is not on the
    menu) and its recipe's pantry rows: locked, but for those with nothing available (only read: the
    order holds nothing of them)."""

    earlier: str | None
    dish: Dish | None
    pantry: dict[str, Balance]


class KitchenUnitOfWork(Transactional, Protocol):
    """One transaction: what the use case changes is written, with the messages its events
    become, on `commit`; leaving without a commit undoes everything."""

    @property
    def orders(self) -> Orders: ...

    @property
    def dishes(self) -> Dishes: ...

    @property
    def pantry(self) -> Pantry: ...

    @property
    def idempotency(self) -> IdempotencyKeys: ...

    def record(self, event: Event) -> None:
        """An event no aggregate records (a ledger row), sent with the commit."""

    async def take_order(self, key: IdempotencyKey | None, order_id: str, dish_id: str) -> Intake:
        """`idempotency.claim(key, order_id)` (when there is a key), then `dishes.get(dish_id)` and
        `pantry.lock` of its recipe, as one step (PostgreSQL: one round trip)."""

    async def take_orders(self, orders: Sequence[PlaceOrder]) -> list[Dish | None]:
        """`take_order` for orders placed together, as one step: for each, its dish, its key claimed;
        None for one to place alone, which claimed nothing (its key is an earlier request's or another
        order's of the group, its dish is off the menu or at another version than it names). The
        recipes' pantry rows are locked, but for those with nothing available (only read):
        `pantry.balances` has them all."""

    async def claim_all(self, entries: Sequence[InboxEntry]) -> list[bool]:
        """For messages handled together in this unit of work: claim each in the inbox; False for one
        processed already (it must have no effect)."""

    def speak_for(self, order_id: str, context: MessageContext, *, step: str | None = None) -> None:
        """The messages of the order's events carry `context` (its request's), not the unit of work's;
        with `step`, only that step of its journey's (a purchase's, applied with its delivery)."""


UnitOfWorkFactory = Callable[[MessageContext, InboxEntry | None], KitchenUnitOfWork]


@dataclass(frozen=True)
class Movement:
    """A pantry ledger row as the reports read it."""

    id: int
    ingredient: str
    delta: int
    reason: PantryReason
    order_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class OrderEntry:
    """An order with when it was placed (what a list is ordered by) and last changed."""

    order: OrderState
    created_at: datetime
    updated_at: datetime


class KitchenViews(Protocol):
    """The read side: what the HTTP API shows, read without a unit of work."""

    async def dishes(self, ids: Sequence[str] | None = None) -> list[Dish]: ...

    async def dish_ids(self) -> list[str]: ...

    async def image(self, digest: str) -> tuple[str, bytes] | None:
        """A stored picture's media type and bytes."""

    async def order(self, order_id: str) -> OrderState | None: ...

    async def order_entry(self, order_id: str) -> OrderEntry | None:
        """The order with its times."""

    async def journey(self, order_id: str) -> list[Step]:
        """The order's journey, oldest step first."""

    async def orders_of(
        self,
        customer_id: str | None,
        *,
        statuses: frozenset[OrderStatus] = frozenset(),
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[OrderEntry]:
        """A customer's orders (every order when None), newest first, in `statuses` (all if empty)."""

    async def pantry(self) -> list[Balance]: ...

    async def overdue(self, now: datetime, limit: int) -> list[str]:
        """Ids of the orders still waiting (pending, reserved) whose deadline is past `now`, oldest first."""

    async def movements(self, *, before: int | None, limit: int) -> list[Movement]: ...


class MenuCache(Protocol):
    async def forget(self, dish_id: str) -> None:
        """Drop what is cached of the dish and of the menu it is on, in every kitchen process;
        raises when the cache could not be told (the caller tries again)."""

    async def try_forget(self, dish_id: str) -> bool:
        """`forget`, as far as it goes: False when the cache could not be told."""


class Waiting(Protocol):
    """A registered order: `settled` resolves with its first change past `pending` (its `at`: when
    that change was stored)."""

    settled: asyncio.Future[OrderChanged]

    async def listen(self) -> bool:
        """Make sure the outcome reaches `settled` from now on. False when it may have come before,
        while nobody listened: then the caller reads the order once."""


class OrderWaiters(Protocol):
    def register(self, order_id: str) -> AbstractContextManager[Waiting]:
        """Wait for the order to leave `pending`, on whichever process settles it. Register before
        the order's transaction commits, and `listen` once it is known to wait, so even the fastest
        outcome is not missed."""
