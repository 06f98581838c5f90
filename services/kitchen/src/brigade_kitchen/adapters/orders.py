"""The `Order` aggregate in PostgreSQL: `orders`, `order_lines` and `supply_requests`.

An order is read in two statements: the first locks its row, the second reads its lines and supply
requests. Two, because under READ COMMITTED a statement that waited for the lock still reads
everything but the locked row itself from the snapshot it started with: lines read in the same
statement could predate the transaction that held the lock, and writing them back would undo it.
Every change to an order's lines or requests takes the order's lock first. The lock is
`FOR NO KEY UPDATE` (an order's id never changes): it keeps out every transaction that would change
the order, but not one that only refers to it, as a journey step's row does (its foreign key). The
orders read without their locks (`read_for_supply_requests`) are for such steps only, which change
nothing of the order: a change to one is refused at commit.

Nothing is written until the unit of work commits: `persist` then buffers each new order whole and,
for each loaded one, only what changed (its row when its version moved, lines whose hold changed,
supply requests that were settled), and hands over the events the orders recorded. Each step of an
order's journey among those events (brigade_kitchen.domain.journey) is stamped with the commit's time
and buffered as a row of `order_steps` too: in the same statement, so the journey costs no round trip.
A step already stored (its key) is dropped.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from brigade_common.db import is_uuid
from brigade_common.writes import Session, Table
from brigade_contracts.kitchen import OrderStatus
from brigade_kitchen.domain.events import Event, OrderState
from brigade_kitchen.domain.journey import stamped, step_of
from brigade_kitchen.domain.model import Line, Order, SupplyRequest, SupplyStatus

ORDERS = Table.of(
    "orders",
    ("id", "uuid"),
    ("customer_id", "text"),
    ("dish_id", "text"),
    ("dish_name", "text"),
    ("quantity", "int"),
    ("total_cents", "bigint"),
    ("status", "text"),
    ("version", "int"),
    ("expires_at", "timestamptz"),
    ("reason", "text"),
    ("payment_id", "text"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    key="id",
)
# Its times are its journey's: `created_at` its first step's, `updated_at` its latest change's.
ORDER_CHANGES = ORDERS.only("id", "status", "version", "expires_at", "reason", "payment_id", "updated_at")
LINES = Table.of(
    "order_lines", ("order_id", "uuid"), ("ingredient", "text"), ("needed", "bigint"), ("reserved", "bigint")
)
LINE_HOLDS = Table.of(
    "order_lines", ("order_id", "uuid"), ("ingredient", "text"), ("reserved", "bigint"), key=("order_id", "ingredient")
)
SUPPLY = Table.of(
    "supply_requests",
    ("id", "uuid"),
    ("order_id", "uuid"),
    ("ingredient", "text"),
    ("amount", "bigint"),
    ("status", "text"),
)
SUPPLY_OUTCOMES = Table.of(
    "supply_requests", ("id", "uuid"), ("status", "text"), key="id", on_update="resolved_at = now()"
)
STEPS = Table.of(
    "order_steps",
    ("order_id", "uuid"),
    ("key", "text"),
    ("kind", "text"),
    ("ingredient", "text"),
    ("amount", "bigint"),
    ("detail", "text"),
    ("at", "timestamptz"),
    conflict="ON CONFLICT DO NOTHING",
)

# The columns of an order's state, as the read side selects them too.
STATE_COLUMNS = (
    "o.id::text AS order_id, o.customer_id, o.dish_id, o.dish_name, o.quantity, o.total_cents, o.status, "
    "o.version, o.expires_at, o.reason"
)
# An `OrderState`'s fields, in order: the first columns of `ORDERS` (its status a `StrEnum`, stored as text).
_STATE_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(OrderState)))
_LOCK = f"SELECT {STATE_COLUMNS}, o.payment_id, o.created_at, o.updated_at FROM orders o "  # noqa: S608 - no input
# The orders of the supply requests `$1`, locked in one order (as every lock of several rows is taken).
_LOCK_OF_REQUESTS = (
    _LOCK  # noqa: S608 - no input is interpolated
    + "WHERE o.id IN (SELECT order_id FROM supply_requests WHERE id = ANY($1::uuid[])) ORDER BY o.id FOR NO KEY UPDATE"
)
_READ_OF_REQUESTS = _LOCK_OF_REQUESTS.removesuffix(" FOR NO KEY UPDATE")
# The lines and supply requests of the orders `$1` (their ids), a row each.
_PARTS = """
SELECT o.id::text AS order_id,
    (SELECT coalesce(json_agg(json_build_array(l.ingredient, l.needed, l.reserved)), '[]')
       FROM order_lines l WHERE l.order_id = o.id) AS lines,
    (SELECT coalesce(json_agg(json_build_array(s.id, s.ingredient, s.amount, s.status)), '[]')
       FROM supply_requests s WHERE s.order_id = o.id) AS supply
  FROM unnest($1::uuid[]) AS o(id)
"""


def order_state(row: asyncpg.Record | dict[str, Any]) -> OrderState:
    """An `OrderState` from a row selected with `STATE_COLUMNS`."""
    return OrderState(
        row["order_id"],
        row["customer_id"],
        row["dish_id"],
        row["dish_name"],
        row["quantity"],
        row["total_cents"],
        OrderStatus(row["status"]),
        row["version"],
        row["expires_at"],
        row["reason"],
    )


@dataclass(frozen=True)
class _AsLoaded:
    version: int
    holds: dict[str, int]
    supply: dict[str, SupplyStatus]


class PostgresOrders:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._new: list[Order] = []
        self._loaded: dict[str, tuple[Order, _AsLoaded]] = {}
        self._unlocked: set[str] = set()  # orders read without their locks: nothing of them may change

    def add(self, order: Order) -> None:
        self._new.append(order)

    @property
    def added(self) -> int:
        """New orders, not yet written."""
        return len(self._new)

    async def get(self, order_id: str) -> Order | None:
        if not is_uuid(order_id):
            return None
        return await self._load("WHERE o.id = $1::uuid FOR NO KEY UPDATE", order_id)

    async def for_supply_request(self, request_id: str) -> Order | None:
        if not is_uuid(request_id):
            return None
        return await self._load(
            "WHERE o.id = (SELECT order_id FROM supply_requests WHERE id = $1::uuid) FOR NO KEY UPDATE", request_id
        )

    async def for_supply_requests(self, request_ids: Sequence[str]) -> dict[str, Order]:
        return await self._of_requests(_LOCK_OF_REQUESTS, request_ids)

    async def read_for_supply_requests(self, request_ids: Sequence[str]) -> dict[str, Order]:
        orders = await self._of_requests(_READ_OF_REQUESTS, request_ids)
        self._unlocked.update(order.id for order in orders.values())
        return orders

    async def _of_requests(self, query: str, request_ids: Sequence[str]) -> dict[str, Order]:
        wanted = [rid for rid in request_ids if is_uuid(rid)]
        orders = await self._loaded_from(await self._session.fetch(query, wanted))
        asked = set(request_ids)
        return {rid: order for order in orders for rid in order.supply if rid in asked}

    async def _load(self, where: str, arg: str) -> Order | None:
        row = await self._session.fetchrow(_LOCK + where, arg)
        if row is None:
            return None
        return (await self._loaded_from([row]))[0]

    async def _loaded_from(self, rows: Sequence[asyncpg.Record]) -> list[Order]:
        """The orders of locked rows, with their lines and supply requests (one statement for all of
        those not loaded yet: an order loaded twice is the same object)."""
        new = [row for row in rows if row["order_id"] not in self._loaded]
        if new:
            parts = {p["order_id"]: p for p in await self._session.fetch(_PARTS, [r["order_id"] for r in new])}
            for row in new:
                self._keep(_order(row, parts[row["order_id"]]))
        return [self._loaded[row["order_id"]][0] for row in rows]

    def _keep(self, order: Order) -> None:
        self._loaded[order.id] = (order, _as_loaded(order))

    def persist(self) -> list[Event]:
        """Buffer what changed, and stamp each order written with the commit's time (`created_at` of a
        new one, `updated_at` of every one whose version moved); the events every order recorded, in
        order."""
        buffer = self._session.buffer
        now = datetime.now(UTC)  # the time of every journey step of this commit (a placed order's too)
        events: list[Event] = []
        for order in self._new:
            state = order.state()
            buffer.insert(ORDERS, (*_STATE_FIELDS(state), order.payment_id, now, now))
            order.created_at = order.updated_at = now
            for line in order.lines.values():
                buffer.insert(LINES, (order.id, line.ingredient, line.needed, line.reserved))
            for req in order.supply.values():
                buffer.insert(SUPPLY, (req.id, order.id, req.ingredient, req.amount, req.status.value))
            events += _take_events(order)
        for order, before in self._loaded.values():
            if order.id in self._unlocked and _as_loaded(order) != before:
                raise RuntimeError(f"order {order.id} changed, but was read without its lock")
            if order.version != before.version:
                changed = (order.status.value, order.version, order.expires_at, order.reason, order.payment_id, now)
                buffer.update(ORDER_CHANGES, (order.id, *changed))
                order.updated_at = now
            for line in order.lines.values():
                if line.reserved != before.holds.get(line.ingredient):
                    buffer.update(LINE_HOLDS, (order.id, line.ingredient, line.reserved))
            for rid, status in _statuses(order).items():
                if status is not before.supply.get(rid):
                    buffer.update(SUPPLY_OUTCOMES, (rid, status.value))
            events += _take_events(order)
        self._new.clear()
        self._loaded.clear()
        self._unlocked.clear()
        return self._steps(events, now)

    def _steps(self, events: list[Event], now: datetime) -> list[Event]:
        events = [stamped(e, now) for e in events]
        for event in events:
            step = step_of(event)
            if step is not None:
                self._session.buffer.insert(
                    STEPS,
                    (step.order_id, step.key, step.kind, step.ingredient, step.amount, step.detail, step.at),
                )
        return events


def _order(row: asyncpg.Record, parts: asyncpg.Record) -> Order:
    state = order_state(row)
    return Order(
        state.order_id,
        state.customer_id,
        state.dish_id,
        state.dish_name,
        state.quantity,
        state.total_cents,
        state.status,
        state.version,
        state.expires_at,
        state.reason,
        row["payment_id"],
        row["created_at"],
        row["updated_at"],
        lines={ing: Line(ing, needed, reserved) for ing, needed, reserved in parts["lines"]},
        supply={rid: SupplyRequest(rid, ing, amount, SupplyStatus(st)) for rid, ing, amount, st in parts["supply"]},
    )


def _as_loaded(order: Order) -> _AsLoaded:
    return _AsLoaded(order.version, {ln.ingredient: ln.reserved for ln in order.lines.values()}, _statuses(order))


def _statuses(order: Order) -> dict[str, SupplyStatus]:
    return {rid: req.status for rid, req in order.supply.items()}


def _take_events(order: Order) -> list[Event]:
    events, order.events = order.events, []
    return events
