"""In-memory fakes of the payments service's ports, for unit tests of the use cases: no servers.

They keep the contracts of the real adapters the use cases rely on: a unit of work changes nothing
until `commit` (leaving without it undoes everything), a payment read in a unit of work is that
unit's own copy, the replica never takes an older snapshot over a newer one, at most one payment
per order is a charge (the database's unique index: `OrderAlreadyCharged` at commit), and an
idempotency key is claimed, completed and released as brigade_common.idempotency does it.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from brigade_common.idempotency import IdempotencyKey, IdempotencyKeyReused, Replay, RequestInProgress
from brigade_common.messaging import AlreadyProcessed, InboxEntry, MessageContext
from brigade_common.testing.fakes import FakeClock as FakeClock  # the tests take it from here
from brigade_contracts.kitchen import OrderStatus
from brigade_payments.domain.errors import KitchenUnavailable, OrderAlreadyCharged
from brigade_payments.domain.events import Event
from brigade_payments.domain.model import OrderState, Payment, PaymentState, PaymentStatus
from brigade_payments.service.ports import Approved, Declined

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ORDER = OrderState("6f1c0000-0000-4000-8000-000000000001", "alice", 900, OrderStatus.RESERVED, 2)


@dataclass
class Key:
    key: IdempotencyKey
    resource_id: str
    result: dict[str, Any] | None = None


@dataclass
class PaymentsState:
    """What the fake database holds, shared by every unit of work of one test."""

    orders: dict[str, OrderState] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    keys: dict[tuple[str, str], Key] = field(default_factory=dict)
    inbox: set[InboxEntry] = field(default_factory=set)
    published: list[Event] = field(default_factory=list)
    commits: int = 0

    @classmethod
    def with_order(cls, order: OrderState = ORDER) -> PaymentsState:
        return cls(orders={order.order_id: order})

    def events(self, kind: type[Event] = Event) -> list[Any]:
        return [e for e in self.published if isinstance(e, kind)]

    def charges(self, order_id: str = ORDER.order_id) -> list[Payment]:
        """The order's payments that are a charge (not failed)."""
        return [p for p in self.payments.values() if p.order_id == order_id and p.status is not PaymentStatus.FAILED]


class FakeOrders:
    def __init__(self, state: PaymentsState) -> None:
        self._state = state
        self.saved: list[OrderState] = []

    async def get(self, order_id: str) -> OrderState | None:
        return self._state.orders.get(order_id)

    def save(self, order: OrderState) -> None:
        self.saved.append(order)


class FakePayments:
    def __init__(self, state: PaymentsState) -> None:
        self._state = state
        self.seen: dict[str, Payment] = {}

    def add(self, payment: Payment) -> None:
        self.seen[payment.id] = payment

    async def get(self, payment_id: str) -> Payment | None:
        if payment_id not in self.seen:
            stored = self._state.payments.get(payment_id)
            if stored is None:
                return None
            self.seen[payment_id] = copy.deepcopy(stored)
        return self.seen[payment_id]


class FakeIdempotencyKeys:
    def __init__(self, state: PaymentsState) -> None:
        self._state = state
        self.begun: dict[tuple[str, str], Key] = {}
        self.completed: dict[str, dict[str, Any]] = {}
        self.released: set[str] = set()

    async def begin(self, key: IdempotencyKey, resource_id: str) -> Replay | None:
        found = self._state.keys.get((key.principal, key.key))
        if found is None:
            self.begun[(key.principal, key.key)] = Key(key, resource_id)
            return None
        if (found.key.method, found.key.path, found.key.fingerprint) != (key.method, key.path, key.fingerprint):
            raise IdempotencyKeyReused(key.key)
        if found.result is None:
            raise RequestInProgress(key.key)
        return Replay(found.resource_id, found.result)

    async def complete(self, resource_id: str, result: Mapping[str, Any]) -> None:
        self.completed[resource_id] = dict(result)

    async def release(self, resource_id: str) -> None:
        self.released.add(resource_id)

    def apply(self) -> None:
        keys = self._state.keys
        for name, begun in self.begun.items():
            if name in keys:  # the primary key: the first commit wins
                raise RuntimeError(f"duplicate key {name}")
            keys[name] = begun
        for name, k in list(keys.items()):
            if k.result is None and k.resource_id in self.completed:
                k.result = self.completed[k.resource_id]
            if k.result is None and k.resource_id in self.released:
                del keys[name]


class FakeUnitOfWork:
    def __init__(self, state: PaymentsState, inbox: InboxEntry | None = None) -> None:
        self._state = state
        self._inbox = inbox
        self._marked: list[InboxEntry] = []

    async def __aenter__(self) -> FakeUnitOfWork:
        if self._inbox is not None and self._inbox in self._state.inbox:
            raise AlreadyProcessed(self._inbox.message_id)
        self.orders = FakeOrders(self._state)
        self.payments = FakePayments(self._state)
        self.idempotency = FakeIdempotencyKeys(self._state)
        return self

    def mark_processed(self, entry: InboxEntry) -> None:
        self._marked.append(entry)

    async def commit(self) -> None:
        state = self._state
        for p in self.payments.seen.values():
            others = [o for o in state.charges(p.order_id) if o.id != p.id]
            if p.status is not PaymentStatus.FAILED and others:
                raise OrderAlreadyCharged(p.order_id)
        self.idempotency.apply()
        for order in self.orders.saved:
            held = state.orders.get(order.order_id)
            if held is None or held.version < order.version:
                state.orders[order.order_id] = order
        for p in self.payments.seen.values():
            state.published += p.events
            p.events = []
            state.payments[p.id] = copy.deepcopy(p)
        for entry in [*self._marked, *([self._inbox] if self._inbox else [])]:
            state.inbox.add(entry)
        state.commits += 1

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def units(state: PaymentsState) -> Any:
    """The `() -> unit of work` the charging use cases take."""
    return lambda: FakeUnitOfWork(state)


class GatedProvider:
    """A provider whose charges wait until `release()`: a request caught in flight."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.asked = asyncio.Event()  # a charge is waiting at the gate
        self.charges: list[str] = []

    async def charge(self, attempt_id: str, amount_cents: int, token: str, reference: str) -> Approved | Declined:
        self.charges.append(attempt_id)
        self.asked.set()
        await self.gate.wait()
        return Approved(f"ch_{attempt_id}")

    async def refund(self, charge_id: str, amount_cents: int) -> str:
        return f"re_{charge_id}"

    def release(self) -> None:
        self.gate.set()


class FakeKitchen:
    def __init__(self, *orders: OrderState) -> None:
        self.orders = {o.order_id: o for o in orders}
        self.asked: list[str] = []
        self.down = False

    async def order(self, order_id: str) -> OrderState | None:
        self.asked.append(order_id)
        if self.down:
            raise KitchenUnavailable("no responders on rpc.kitchen.order.get")
        return self.orders.get(order_id)


class FakeViews:
    def __init__(self, state: PaymentsState) -> None:
        self._state = state

    async def order(self, order_id: str) -> OrderState | None:
        return self._state.orders.get(order_id)

    async def payment(self, payment_id: str) -> PaymentState | None:
        p = self._state.payments.get(payment_id)
        return p.state() if p else None

    async def payments(
        self, *, customer_id: str | None, order_id: str | None, before: tuple[datetime, str] | None, limit: int
    ) -> list[PaymentState]:
        raise NotImplementedError

    async def stuck(self, started_before: datetime, limit: int) -> list[str]:
        processing = [p for p in self._state.payments.values() if p.status is PaymentStatus.PROCESSING]
        return [p.id for p in sorted(processing, key=lambda p: p.created_at) if p.created_at < started_before][:limit]


CTX = MessageContext("corr-1")
