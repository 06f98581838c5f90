"""In-memory fakes of the warehouse's ports, for unit tests of the supply use case: no servers.

A unit of work changes nothing until `commit`; the stock refuses to go below zero or below what it
holds for requests (the database's CHECK constraints); the market answers from a script of amounts
(or fails, when the script says so).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_common.testing.fakes import FakeClock
from brigade_contracts.warehouse import StockReason
from brigade_warehouse.domain.errors import MarketUnavailable
from brigade_warehouse.domain.events import Event, PurchaseMade, StockMoved
from brigade_warehouse.domain.model import SupplyRequest
from brigade_warehouse.service.handlers import Deps
from brigade_warehouse.service.ports import Bought

NOW = datetime(2025, 3, 14, 12, tzinfo=UTC)


@dataclass
class WarehouseState:
    stock: dict[str, int] = field(default_factory=dict)
    reserved: dict[str, int] = field(default_factory=dict)  # ingredient → units held for requests
    versions: dict[str, int] = field(default_factory=dict)  # ingredient → the stock row's version
    requests: dict[str, SupplyRequest] = field(default_factory=dict)
    movements: list[StockMoved] = field(default_factory=list)
    purchases: list[PurchaseMade] = field(default_factory=list)
    inbox: set[InboxEntry] = field(default_factory=set)
    published: list[Event] = field(default_factory=list)
    commits: int = 0  # units of work committed

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.published if isinstance(e, kind)]


class FakeRequests:
    def __init__(self, state: WarehouseState) -> None:
        self._state = state
        self.opened: list[SupplyRequest] = []
        self.seen: dict[str, SupplyRequest] = {}

    def open(self, request: SupplyRequest) -> None:
        self.opened.append(request)

    def _get(self, request_id: str) -> SupplyRequest | None:
        # As in PostgreSQL, the transaction reads its own registration (ON CONFLICT DO NOTHING: the
        # stored request wins over one registered again).
        stored = self._state.requests.get(request_id) or next((r for r in self.opened if r.id == request_id), None)
        if stored is not None and request_id not in self.seen:
            self.seen[request_id] = copy.deepcopy(stored)
        return self.seen.get(request_id)

    async def get_all(self, request_ids: Sequence[str]) -> dict[str, SupplyRequest]:
        found = {rid: self._get(rid) for rid in request_ids}
        return {rid: req for rid, req in found.items() if req is not None}


class FakeStock:
    def __init__(self, state: WarehouseState, ledger: list[Event]) -> None:
        self._state = state
        self._ledger = ledger  # the moves and purchases in the order they were made, sent at commit
        self.moves: list[StockMoved] = []
        self.held: dict[str, int] = {}  # holds changed by this unit of work

    def _on_hand(self, ingredient: str) -> int:
        return self._state.stock.get(ingredient, 0) + sum(m.delta for m in self.moves if m.ingredient == ingredient)

    def _reserved(self, ingredient: str) -> int:
        return self._state.reserved.get(ingredient, 0) + self.held.get(ingredient, 0)

    async def lock_all(self, ingredients: Iterable[str]) -> dict[str, int]:
        return {i: self._on_hand(i) - self._reserved(i) for i in sorted(set(ingredients))}

    def hold(self, ingredient: str, delta: int) -> None:
        self.held[ingredient] = self.held.get(ingredient, 0) + delta
        assert 0 <= self._reserved(ingredient) <= self._on_hand(ingredient), f"{ingredient} held beyond its stock"

    def move(self, ingredient: str, delta: int, reason: StockReason, request_id: str, *, released: int = 0) -> None:
        balance = self._on_hand(ingredient) + delta
        if released:
            self.held[ingredient] = self.held.get(ingredient, 0) - released
        assert balance >= self._reserved(ingredient) >= 0, f"stock of {ingredient} below zero or what it holds"
        version = self._state.versions.get(ingredient, 0) + 1 + sum(m.ingredient == ingredient for m in self.moves)
        moved = StockMoved(0, ingredient, delta, reason, balance, request_id, version, NOW)
        self.moves.append(moved)
        self._ledger.append(moved)


class FakePurchases:
    def __init__(self, ledger: list[Event]) -> None:
        self._ledger = ledger
        self.made: list[PurchaseMade] = []

    def record(self, request_id: str, ingredient: str, requested: int, received: int, supplier: str) -> None:
        made = PurchaseMade(0, request_id, ingredient, requested, received, supplier, NOW)
        self.made.append(made)
        self._ledger.append(made)


class FakeUnitOfWork:
    def __init__(self, state: WarehouseState) -> None:
        self._state = state
        self._recorded: list[Event] = []
        self._processed: list[InboxEntry] = []
        self.contexts: dict[str, MessageContext] = {}  # per request, by speak_for

    async def __aenter__(self) -> FakeUnitOfWork:
        self.requests = FakeRequests(self._state)
        self.stock = FakeStock(self._state, self._recorded)
        self.purchases = FakePurchases(self._recorded)
        return self

    def mark_processed(self, entry: InboxEntry) -> None:
        self._processed.append(entry)

    def speak_for(self, request_id: str, context: MessageContext) -> None:
        self.contexts[request_id] = context

    async def commit(self) -> None:
        state = self._state
        for req in self.requests.opened:
            state.requests.setdefault(req.id, copy.deepcopy(req))
        events = list(self._recorded)
        for req in self.requests.seen.values():
            events += req.events
            req.events = []
            state.requests[req.id] = copy.deepcopy(req)
        for ingredient, delta in self.stock.held.items():
            state.reserved[ingredient] = state.reserved.get(ingredient, 0) + delta
        for moved in self.stock.moves:
            state.stock[moved.ingredient] = moved.balance
            state.versions[moved.ingredient] = moved.version
            state.movements.append(dataclasses.replace(moved, movement_id=len(state.movements) + 1))
        state.purchases += self.purchases.made
        state.inbox.update(self._processed)
        state.published += events
        state.commits += 1

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class ScriptedMarket:
    """Answers each call with the next amount of its script (capped at what was asked); None fails."""

    def __init__(self, answers: Iterable[int | None], clock: FakeClock | None = None, takes_s: float = 0.0) -> None:
        self._answers = iter(answers)
        self._clock = clock
        self._takes_s = takes_s
        self.asked: list[int] = []

    async def buy(self, ingredient: str, amount: int, timeout_s: float) -> Bought:
        self.asked.append(amount)
        if self._clock is not None:
            self._clock.advance(self._takes_s)
        answer = next(self._answers, 0)
        if answer is None:
            raise MarketUnavailable("market.buy did not answer within 2s")
        return Bought(min(answer, amount), "Proveedor Uno")


class FakeProgress:
    def __init__(self, message_id: str = "msg-1") -> None:
        self.inbox = InboxEntry("warehouse-supply", message_id)
        self.kept_alive = 0

    async def keep_alive(self) -> None:
        self.kept_alive += 1


def deps(market: ScriptedMarket, clock: FakeClock, *, deadline_s: float = 30.0) -> Deps:
    async def no_pause() -> None:
        clock.advance(0.2)

    return Deps(clock=clock, market=market, pause=no_pause, deadline_s=deadline_s, market_timeout_s=2.0)


CTX = MessageContext("corr-1")
