"""In-memory fakes of the kitchen's ports, for unit tests of the use cases: no servers, milliseconds.

They keep the contracts of the real adapters that the use cases rely on: a unit of work changes
nothing until `commit` (leaving without it undoes everything), an aggregate read in a unit of work
is that unit's own copy, and the pantry refuses to go below zero or hold more than it has (the
database's CHECK constraints).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

from brigade_common.idempotency import IdempotencyKey, IdempotencyKeyReused
from brigade_common.messaging import AlreadyProcessed, InboxEntry, MessageContext
from brigade_common.testing.fakes import FakeClock, Ids
from brigade_kitchen.domain.errors import DuplicateDishName
from brigade_kitchen.domain.events import Event, Held, PantryHeld, PantryMoved, spoken_for
from brigade_kitchen.domain.journey import Step, stamped, step_of
from brigade_kitchen.domain.model import Balance, Deadlines, Dish, Move, Order
from brigade_kitchen.seed_data import DISHES, PANTRY
from brigade_kitchen.service.commands import PlaceOrder
from brigade_kitchen.service.handlers import Deps
from brigade_kitchen.service.ports import Intake

# When the fake ledger writes a row (the real one: the transaction's time).
MOVED_AT = datetime(2025, 3, 14, 12, tzinfo=UTC)


@dataclass
class Published:
    event: Event
    context: MessageContext


@dataclass
class KitchenState:
    """What the fake database holds, shared by every unit of work of one test."""

    dishes: dict[str, Dish] = field(default_factory=dict)
    pantry: dict[str, list[int]] = field(default_factory=dict)  # ingredient → [on_hand, reserved]
    versions: dict[str, int] = field(default_factory=dict)  # ingredient → the pantry row's version
    movements: list[PantryMoved] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)  # order id → creation sequence
    keys: dict[tuple[str, str], tuple[IdempotencyKey, str]] = field(default_factory=dict)
    inbox: set[InboxEntry] = field(default_factory=set)
    published: list[Published] = field(default_factory=list)
    commits: int = 0
    # order id → its journey's steps by key (the first of a key stays, like ON CONFLICT DO NOTHING)
    steps: dict[str, dict[str, Step]] = field(default_factory=dict)
    # What stamps the journey's steps at commit (a test's FakeClock, to see the times).
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    retired: set[str] = field(default_factory=set)
    images: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @classmethod
    def seeded(cls, pantry: dict[str, int] | None = None) -> KitchenState:
        """Seed 000's dishes, and its pantry unless another is given."""
        state = cls()
        for dish_id, name, description, price, recipe in DISHES:
            state.dishes[dish_id] = Dish(dish_id, name, description, None, price, 1, recipe)
        for ingredient, units in (PANTRY if pantry is None else pantry).items():
            state.pantry[ingredient] = [units, 0]
        return state

    def balance(self, ingredient: str) -> Balance:
        on_hand, reserved = self.pantry[ingredient]
        return Balance(ingredient, on_hand, reserved, self.versions.get(ingredient, 0))

    def events(self, kind: type[Event] = Event) -> list[Event]:
        return [p.event for p in self.published if isinstance(p.event, kind)]

    def journey(self, order_id: str) -> list[Step]:
        return sorted(self.steps.get(order_id, {}).values(), key=lambda s: s.at)


class FakeOrders:
    def __init__(self, state: KitchenState) -> None:
        self._state = state
        self.seen: dict[str, Order] = {}
        self.read: dict[str, Order] = {}  # read without their locks

    def add(self, order: Order) -> None:
        self.seen[order.id] = order

    async def get(self, order_id: str) -> Order | None:
        if order_id not in self.seen:
            stored = self._state.orders.get(order_id)
            if stored is None:
                return None
            self.seen[order_id] = copy.deepcopy(stored)
        return self.seen[order_id]

    async def for_supply_request(self, request_id: str) -> Order | None:
        owner = next((o.id for o in self._state.orders.values() if request_id in o.supply), None)
        return await self.get(owner) if owner else None

    async def for_supply_requests(self, request_ids: Sequence[str]) -> dict[str, Order]:
        found = {rid: await self.for_supply_request(rid) for rid in request_ids}
        return {rid: order for rid, order in found.items() if order is not None}

    async def read_for_supply_requests(self, request_ids: Sequence[str]) -> dict[str, Order]:
        """Copies that are never written back: the unit of work takes their events only, and refuses
        one that changed (as the repository does)."""
        found: dict[str, Order] = {}
        for rid in request_ids:
            stored = next((o for o in self._state.orders.values() if rid in o.supply), None)
            if stored is not None:
                found[rid] = self.read.setdefault(stored.id, copy.deepcopy(stored))
        return found


class FakeDishes:
    """Writes are kept until the unit of work commits; a retired dish is off the menu (not gone)."""

    def __init__(self, state: KitchenState) -> None:
        self._state = state
        self.written: dict[str, Dish] = {}
        self.retiring: set[str] = set()
        self.images: dict[str, tuple[str, bytes]] = {}

    async def get(self, dish_id: str) -> Dish | None:
        if dish_id in self._state.retired or dish_id in self.retiring:
            return None
        return self.written.get(dish_id) or self._state.dishes.get(dish_id)

    async def lock(self, dish_id: str) -> Dish | None:
        return await self.get(dish_id)

    async def free_id(self, wanted: str) -> str:
        n, candidate = 1, wanted
        while candidate in self._state.dishes or candidate in self.written:
            n += 1
            candidate = f"{wanted}-{n}"
        return candidate

    async def add(self, dish: Dish) -> None:
        await self.save(dish)

    async def save(self, dish: Dish) -> None:
        on_menu = {**self._state.dishes, **self.written}
        for other in on_menu.values():
            active = other.id not in self._state.retired and other.id not in self.retiring
            if active and other.id != dish.id and other.name.lower() == dish.name.lower():
                raise DuplicateDishName(dish.name)
        self.written[dish.id] = dish

    async def retire(self, dish: Dish) -> None:
        self.written[dish.id] = dish
        self.retiring.add(dish.id)

    async def store_image(self, digest: str, media_type: str, data: bytes) -> None:
        self.images[digest] = (media_type, data)

    def apply(self) -> None:
        self._state.dishes.update(self.written)
        self._state.retired |= self.retiring
        self._state.images.update(self.images)


class FakePantry:
    def __init__(self, state: KitchenState) -> None:
        self._state = state
        self.locked: list[list[str]] = []
        self.holds: dict[str, int] = {}
        self.moves: list[tuple[str, int, int]] = []
        self.changes: dict[str, int] = {}  # ingredient → changes of its row in this unit of work

    async def lock(self, ingredients: Iterable[str]) -> dict[str, Balance]:
        names = sorted(set(ingredients))
        self.locked.append(names)
        for name in names:
            self._state.pantry.setdefault(name, [0, 0])
        return {n: self._projected(n) for n in names}

    def balances(self, ingredients: Iterable[str]) -> dict[str, Balance]:
        return {n: self._projected(n) for n in ingredients}

    def hold(self, order_id: str, holds: Mapping[str, int]) -> PantryHeld:
        changed = []
        for ingredient, delta in sorted(holds.items()):
            assert any(ingredient in names for names in self.locked), f"{ingredient} held without a lock"
            self.holds[ingredient] = self.holds.get(ingredient, 0) + delta
            self.changes[ingredient] = self.changes.get(ingredient, 0) + 1
            after = self._projected(ingredient)
            changed.append(Held(ingredient, delta, after.on_hand, after.reserved, after.version))
        return PantryHeld(order_id, tuple(changed))

    async def move_all(self, moves: Sequence[Move]) -> list[PantryMoved]:
        events = []
        for m in moves:
            self.moves.append((m.ingredient, m.delta, m.hold_delta))
            self.changes[m.ingredient] = self.changes.get(m.ingredient, 0) + 1
            events.append(m.moved(0, self._projected(m.ingredient), MOVED_AT))
        return events

    def _projected(self, ingredient: str) -> Balance:
        on_hand, reserved = self._state.pantry.get(ingredient, [0, 0])
        reserved += self.holds.get(ingredient, 0)
        for name, delta, hold in self.moves:
            if name == ingredient:
                on_hand += delta
                reserved += hold
        return Balance(
            ingredient, on_hand, reserved, self._state.versions.get(ingredient, 0) + self.changes.get(ingredient, 0)
        )

    def apply(self) -> None:
        for ingredient in {*self.holds, *(m[0] for m in self.moves)}:
            after = self._projected(ingredient)
            assert 0 <= after.reserved <= after.on_hand, f"pantry constraint broken for {ingredient}: {after}"
            self._state.pantry[ingredient] = [after.on_hand, after.reserved]
            self._state.versions[ingredient] = after.version


class FakeIdempotencyKeys:
    def __init__(self, state: KitchenState) -> None:
        self._state = state
        self.claimed: dict[tuple[str, str], tuple[IdempotencyKey, str]] = {}

    async def claim(self, key: IdempotencyKey, resource_id: str) -> str | None:
        found = self._state.keys.get((key.principal, key.key))
        if found is None:
            self.claimed[(key.principal, key.key)] = (key, resource_id)
            return None
        earlier, resource = found
        if (earlier.method, earlier.path, earlier.fingerprint) != (key.method, key.path, key.fingerprint):
            raise IdempotencyKeyReused(key.key)
        return resource


class FakeUnitOfWork:
    def __init__(self, state: KitchenState, context: MessageContext, inbox: InboxEntry | None = None) -> None:
        self._state = state
        self._context = context
        self._inbox = inbox
        self._recorded: list[Event] = []
        self._contexts: dict[tuple[str, str | None], MessageContext] = {}
        self.taken_together: list[int] = []  # orders each take_orders placed
        self.claimed: list[InboxEntry] = []  # by claim_all
        self.committed = False

    async def __aenter__(self) -> FakeUnitOfWork:
        if self._inbox is not None and self._inbox in self._state.inbox:
            raise AlreadyProcessed(self._inbox.message_id)
        self.orders = FakeOrders(self._state)
        self.dishes = FakeDishes(self._state)
        self.pantry = FakePantry(self._state)
        self.idempotency = FakeIdempotencyKeys(self._state)
        return self

    def record(self, event: Event) -> None:
        self._recorded.append(event)

    async def take_order(self, key: IdempotencyKey | None, order_id: str, dish_id: str) -> Intake:
        if key is not None:
            earlier = await self.idempotency.claim(key, order_id)
            if earlier is not None:
                return Intake(earlier, None, {})
        dish = await self.dishes.get(dish_id)
        return Intake(None, dish, await self.pantry.lock(dish.recipe) if dish is not None else {})

    async def take_orders(self, orders: Sequence[PlaceOrder]) -> list[Dish | None]:
        dishes: list[Dish | None] = []
        keys: set[tuple[str, str]] = set()
        for o in orders:
            dish = await self.dishes.get(o.dish_id)
            k = (o.idempotency.principal, o.idempotency.key) if o.idempotency is not None else None
            if dish is None or (o.dish_version is not None and o.dish_version != dish.version) or k in keys:
                dishes.append(None)
                continue
            if o.idempotency is not None and k is not None:
                keys.add(k)
                if k in self._state.keys:  # an earlier request's: nothing claimed, placed alone
                    dishes.append(None)
                    continue
                self.idempotency.claimed[k] = (o.idempotency, o.order_id)
            dishes.append(dish)
        await self.pantry.lock(i for d in dishes if d is not None for i in d.recipe)
        self.taken_together.append(len([d for d in dishes if d is not None]))
        return dishes

    async def claim_all(self, entries: Sequence[InboxEntry]) -> list[bool]:
        claims = []
        for entry in entries:
            claims.append(entry not in self._state.inbox and entry not in self.claimed)
            if claims[-1]:
                self.claimed.append(entry)
        return claims

    def speak_for(self, order_id: str, context: MessageContext, *, step: str | None = None) -> None:
        self._contexts[(order_id, step)] = context

    async def commit(self) -> None:
        state = self._state
        self.pantry.apply()
        self.dishes.apply()
        events: list[Event] = []
        now = state.clock()
        for order in self.orders.seen.values():
            events += order.events
            order.events = []
            state.created.setdefault(order.id, len(state.created))
            before = state.orders.get(order.id)
            if before is None:  # stamped as the real repository stamps them
                order.created_at = order.updated_at = now
            elif order.version != before.version:
                order.updated_at = now
            state.orders[order.id] = copy.deepcopy(order)
        for order in self.orders.read.values():
            if _shape(order) != _shape(state.orders[order.id]):
                raise RuntimeError(f"order {order.id} changed, but was read without its lock")
            events += order.events
            order.events = []
        for recorded in self._recorded:
            if isinstance(recorded, PantryMoved):
                recorded = dataclasses.replace(recorded, movement_id=len(state.movements) + 1)
                state.movements.append(recorded)
            events.append(recorded)
        events = [stamped(e, now) for e in events]
        for event in events:
            step = step_of(event)
            if step is not None:
                state.steps.setdefault(step.order_id, {}).setdefault(step.key, step)
        state.keys.update(self.idempotency.claimed)
        state.inbox.update([self._inbox] if self._inbox is not None else self.claimed)
        state.published += [Published(e, spoken_for(self._contexts, e) or self._context) for e in events]
        state.commits += 1
        self.committed = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def deps(clock: FakeClock | None = None, *, payment_window_s: float = 900, supply_wait_s: float = 60) -> Deps:
    return Deps(
        clock=clock or FakeClock(),
        new_id=Ids(),
        deadlines=Deadlines(supply_s=supply_wait_s, payment_s=payment_window_s),
    )


def _shape(order: Order) -> tuple[object, ...]:
    """What of an order a unit of work would write."""
    holds = {ingredient: line.reserved for ingredient, line in order.lines.items()}
    return order.state(), order.payment_id, holds, {rid: req.status for rid, req in order.supply.items()}
