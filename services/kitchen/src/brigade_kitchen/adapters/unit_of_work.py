"""The kitchen's unit of work on PostgreSQL: its repositories on one transaction (brigade_common's
`UnitOfWork`: write buffer, outbox, inbox), and the messages its events become at commit.

`take_order` opens an order in one statement: the idempotency key's claim, the dish and the lock of
its recipe's pantry rows, which would otherwise be three round trips on the busiest path there is.
The dish and the lock depend on the claim's result (no rows when the key is an earlier request's), so
PostgreSQL runs the claim first and a replay reads and locks nothing; the pantry rows are locked in
one order, as `PostgresPantry.lock` locks them.

Only the rows with something available are locked: the order holds nothing of a row that has nothing
to give, so nothing of it changes, and reading it is enough (stock that comes meanwhile is there for
the next order; this one asks the warehouse). That keeps orders placed while the pantry is empty off
the rows the warehouse's deliveries lock. A row that changed sides while the statement waited for it
(emptied by the transaction before) is in neither list: then every row is locked in a statement of
its own.

Orders of one dish queue on its pantry rows, so how long an order's transaction holds them bounds
how many orders a second the dish can take (1 / the hold): `kitchen_pantry_hold_seconds` in the
kitchen's /metrics, from the reply that took the lock to the reply of the commit (an order that
locked none is not in it).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import Gauge, Histogram

from brigade_common.idempotency import (
    CLAIM_PARAMS,
    CLAIM_SQL,
    DEFAULT_TTL_S,
    IdempotencyKey,
    claim_args,
    claim_key,
    claims_sql,
    earlier_claim,
)
from brigade_common.messaging import InboxEntry, MessageContext, Outgoing
from brigade_common.unit_of_work import UnitOfWork
from brigade_common.writes import Session
from brigade_kitchen.adapters.dishes import PostgresDishes
from brigade_kitchen.adapters.messages import outgoing
from brigade_kitchen.adapters.orders import PostgresOrders
from brigade_kitchen.adapters.pantry import PostgresPantry
from brigade_kitchen.domain.events import Event, spoken_for
from brigade_kitchen.domain.model import Balance, Dish
from brigade_kitchen.service.commands import PlaceOrder
from brigade_kitchen.service.ports import Intake

PANTRY_HOLD = Histogram(
    "kitchen_pantry_hold_seconds",
    "How long a new order's transaction held its dish's pantry rows: from the reply that locked them "
    "to the reply of the commit (orders of one dish wait on those rows for each other).",
    buckets=(0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
ORDERS_WAITING = Gauge(
    "kitchen_orders_waiting",
    "Orders waiting for a reservation transaction: every one admission control lets run, runs.",
)
DELIVERIES_WAITING = Gauge(
    "kitchen_deliveries_waiting",
    "The warehouse's deliveries and purchases waiting for a delivery transaction: all that may run at once, run.",
)
DELIVERIES_TOGETHER = Histogram(
    "kitchen_deliveries_applied_together",
    "The warehouse's deliveries and purchases applied by one transaction (what came while the others ran goes too).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
PLACED_TOGETHER = Histogram(
    "kitchen_orders_placed_together",
    "Orders placed by one transaction (the orders that came while the others ran go together: admission control).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)


def _menu(where: str) -> str:
    """The dishes on the menu that `where` picks (of `d`, `dishes`), each with its recipe as JSON."""
    return f"""
    SELECT d.id, d.name, d.description, d.image_url, d.price_cents, d.version,
           coalesce(jsonb_object_agg(i.ingredient, i.amount) FILTER (WHERE i.ingredient IS NOT NULL),
                    '{{}}'::jsonb) AS recipe
      FROM dishes d LEFT JOIN dish_ingredients i ON i.dish_id = d.id
     WHERE {where} AND d.retired_at IS NULL
     GROUP BY d.id"""  # noqa: S608 - no input is interpolated


def _pantry(ingredients: str) -> str:
    """The CTEs `locked` (the rows of `ingredients`, a query, with something available: locked, in
    one order) and `empty` (the others: read)."""
    return f"""
locked AS (
    SELECT ingredient, on_hand, reserved, version FROM pantry
     WHERE ingredient IN ({ingredients}) AND on_hand > reserved
     ORDER BY ingredient FOR UPDATE
),
empty AS (
    SELECT ingredient, on_hand, reserved, version FROM pantry
     WHERE ingredient IN ({ingredients}) AND on_hand <= reserved
)"""  # noqa: S608 - no input is interpolated


# `pantry` and `empty`: the rows of `_pantry`'s two CTEs, as JSON (`_balances` reads them).
_ROWS = """
       (SELECT coalesce(json_agg(json_build_array(ingredient, on_hand, reserved, version)), '[]')
          FROM locked) AS pantry,
       (SELECT coalesce(json_agg(json_build_array(ingredient, on_hand, reserved, version)), '[]')
          FROM empty) AS empty"""


def _take(dish_param: str, claimed: str) -> str:
    """One row: whether the key is claimed, the dish `dish_param` names (when it is; NULLs when there is
    no such dish on the menu) and its recipe's pantry rows, locked."""
    return f"""
dish AS ({_menu(f"d.id = {dish_param} AND {claimed} IS NOT NULL")}),
{_pantry("SELECT jsonb_object_keys(recipe) FROM dish")}
SELECT {claimed} AS claimed, dish.*,{_ROWS}
  FROM (VALUES (1)) AS one LEFT JOIN dish ON true
"""  # noqa: S608 - no input is interpolated


_CLAIMED = _take(f"${CLAIM_PARAMS + 1}", "(SELECT claimed FROM claim)")
_TAKE_CLAIMED = f"WITH claim AS ({CLAIM_SQL}),{_CLAIMED}"
_TAKE = "WITH" + _take("$1", "true")

# `_take` for orders placed together: the orders (`$1`… `$8`, a column each), the dishes they name,
# the keys claimed of those whose dish is on the menu at the version they name, and the pantry rows
# of the recipes of those taken (keyless, or their key now claimed).
_TAKE_ORDERS = f"""
WITH req AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[])
        AS r(resource_id, dish_id, dish_version, principal, key, method, path, fingerprint)
),
menu AS ({_menu("d.id IN (SELECT dish_id FROM req)")}),
fit AS (
    SELECT req.* FROM req JOIN menu ON menu.id = req.dish_id
     WHERE req.dish_version IS NULL OR req.dish_version = menu.version
),
claim AS ({claims_sql("(SELECT * FROM fit WHERE key IS NOT NULL) AS keyed", "$9")}),
taken AS (
    SELECT resource_id, dish_id FROM fit WHERE key IS NULL OR resource_id IN (SELECT resource_id FROM claim)
),
{_pantry("SELECT jsonb_object_keys(recipe) FROM menu WHERE id IN (SELECT dish_id FROM taken)")}
SELECT (SELECT coalesce(json_agg(resource_id), '[]') FROM taken) AS taken,
       (SELECT coalesce(json_agg(json_build_array(id, name, description, image_url, price_cents, version, recipe)),
                        '[]') FROM menu) AS dishes,{_ROWS}
"""  # noqa: S608 - no input is interpolated


def _take_args(orders: Sequence[PlaceOrder]) -> list[Any]:
    """`_TAKE_ORDERS`'s parameters: a column each of the orders (a key's columns NULL without one)."""
    keys = [o.idempotency for o in orders]
    return [
        [o.order_id for o in orders],
        [o.dish_id for o in orders],
        [o.dish_version for o in orders],
        [k.principal if k else None for k in keys],
        [k.key if k else None for k in keys],
        [k.method.upper() if k else None for k in keys],
        [k.path if k else None for k in keys],
        [k.fingerprint if k else None for k in keys],
        float(DEFAULT_TTL_S),
    ]


def _balances(rows: list[list[Any]]) -> dict[str, Balance]:
    """The pantry rows `_take` aggregated (`[ingredient, on_hand, reserved, version]`), by ingredient."""
    return {ing: Balance(ing, on_hand, reserved, version) for ing, on_hand, reserved, version in rows}


class PostgresIdempotencyKeys:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def claim(self, key: IdempotencyKey, resource_id: str) -> str | None:
        return await claim_key(self._session, key, resource_id=resource_id)


class PostgresKitchenUnitOfWork(UnitOfWork[Event]):
    orders: PostgresOrders
    dishes: PostgresDishes
    pantry: PostgresPantry
    idempotency: PostgresIdempotencyKeys

    def open(self, session: Session) -> None:
        self._session = session
        self._locked_at: float | None = None  # when take_order's reply locked the pantry rows
        # Per order (or step of its journey), when the unit of work serves several messages.
        self._contexts: dict[tuple[str, str | None], MessageContext] = {}
        self._claimed = 0  # messages claimed by `claim_all`
        self.orders = PostgresOrders(session)
        self.dishes = PostgresDishes(session)
        self.pantry = PostgresPantry(session)
        self.idempotency = PostgresIdempotencyKeys(session)

    async def commit(self) -> None:
        placed, delivered = self.orders.added, self._claimed
        await super().commit()
        if self._locked_at is not None:
            PANTRY_HOLD.observe(time.perf_counter() - self._locked_at)
            self._locked_at = None
        if placed:
            PLACED_TOGETHER.observe(placed)
        if delivered:  # only deliveries are handled several at once
            DELIVERIES_TOGETHER.observe(delivered)
            self._claimed = 0

    async def claim_all(self, entries: Sequence[InboxEntry]) -> list[bool]:
        claimed = await super().claim_all(entries)
        self._claimed += sum(claimed)
        return claimed

    async def take_order(self, key: IdempotencyKey | None, order_id: str, dish_id: str) -> Intake:
        if key is None:
            row = await self._session.fetchrow(_TAKE, dish_id)
        else:
            row = await self._session.fetchrow(_TAKE_CLAIMED, *claim_args(key, order_id), dish_id)
            assert row is not None
            if row["claimed"] is None:  # the key was claimed before
                earlier = await earlier_claim(self._session, key, resource_id=order_id)
                if earlier is not None:
                    return Intake(earlier, None, {})
                # It expired or was purged meanwhile, and is claimed now: the dish was not read.
                return await self._take_apart(dish_id)
        if row is None or row["id"] is None:
            return Intake(None, None, {})
        dish = Dish(
            row["id"],
            row["name"],
            row["description"],
            row["image_url"],
            row["price_cents"],
            row["version"],
            row["recipe"],
        )
        locked, empty = _balances(row["pantry"]), _balances(row["empty"])
        if len(locked) + len(empty) < len(dish.recipe):
            # An ingredient without its pantry row yet (created at zero), or one that a transaction
            # emptied or stocked while this one waited for it: every row, locked, in a statement of its own.
            return Intake(None, dish, await self._lock(dish.recipe))
        self.pantry.locked(locked)
        if locked:
            self._locked_at = time.perf_counter()
        return Intake(None, dish, {**locked, **empty})

    async def _take_apart(self, dish_id: str) -> Intake:
        dish = await self.dishes.get(dish_id)
        if dish is None:
            return Intake(None, None, {})
        return Intake(None, dish, await self._lock(dish.recipe))

    async def _lock(self, ingredients: Iterable[str]) -> dict[str, Balance]:
        locked = await self.pantry.lock(ingredients)
        self._locked_at = time.perf_counter()
        return locked

    async def take_orders(self, orders: Sequence[PlaceOrder]) -> list[Dish | None]:
        keys = [(o.idempotency.principal, o.idempotency.key) if o.idempotency else None for o in orders]
        # A key twice in the group: the second is placed alone (and replays the first).
        alone = {i for i, k in enumerate(keys) if k is not None and k in keys[:i]}
        group = [o for i, o in enumerate(orders) if i not in alone]
        row = await self._session.fetchrow(_TAKE_ORDERS, *_take_args(group))
        assert row is not None
        taken = set(row["taken"])
        menu = {d[0]: Dish(*d) for d in row["dishes"]}
        locked, empty = _balances(row["pantry"]), _balances(row["empty"])
        dishes = [menu[o.dish_id] if i not in alone and o.order_id in taken else None for i, o in enumerate(orders)]
        wanted = {ingredient for dish in dishes if dish is not None for ingredient in dish.recipe}
        if not wanted <= locked.keys() | empty.keys():
            # As in `take_order`: a row missing, or one that changed sides while the statement waited.
            locked, empty = await self._lock(wanted), {}
        elif locked:
            self._locked_at = time.perf_counter()
        self.pantry.locked(locked, empty)
        return dishes

    def speak_for(self, order_id: str, context: MessageContext, *, step: str | None = None) -> None:
        self._contexts[(order_id, step)] = context

    def persist(self) -> list[Event]:
        return self.orders.persist()

    def to_message(self, event: Event) -> Outgoing:
        return outgoing(event)

    def context_of(self, event: Event) -> MessageContext | None:
        return spoken_for(self._contexts, event) if self._contexts else None
