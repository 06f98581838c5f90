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
from collections.abc import Iterable
from typing import Any

from prometheus_client import Histogram

from brigade_common.idempotency import CLAIM_PARAMS, CLAIM_SQL, IdempotencyKey, claim_args, claim_key, earlier_claim
from brigade_common.messaging import Outgoing
from brigade_common.unit_of_work import UnitOfWork
from brigade_common.writes import Session
from brigade_kitchen.adapters.dishes import PostgresDishes
from brigade_kitchen.adapters.messages import outgoing
from brigade_kitchen.adapters.orders import PostgresOrders
from brigade_kitchen.adapters.pantry import PostgresPantry
from brigade_kitchen.domain.events import Event
from brigade_kitchen.domain.model import Balance, Dish
from brigade_kitchen.service.ports import Intake

PANTRY_HOLD = Histogram(
    "kitchen_pantry_hold_seconds",
    "How long a new order's transaction held its dish's pantry rows: from the reply that locked them "
    "to the reply of the commit (orders of one dish wait on those rows for each other).",
    buckets=(0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)


def _take(dish_param: str, claimed: str) -> str:
    """One row: whether the key is claimed, the dish `dish_param` names (when it is; NULLs when there is
    no such dish on the menu) and its recipe's pantry rows, locked."""
    return f"""
dish AS (
    SELECT d.id, d.name, d.description, d.image_url, d.price_cents, d.version,
           coalesce(jsonb_object_agg(i.ingredient, i.amount) FILTER (WHERE i.ingredient IS NOT NULL),
                    '{{}}'::jsonb) AS recipe
      FROM dishes d LEFT JOIN dish_ingredients i ON i.dish_id = d.id
     WHERE d.id = {dish_param} AND d.retired_at IS NULL AND {claimed} IS NOT NULL
     GROUP BY d.id
),
locked AS (
    SELECT ingredient, on_hand, reserved, version FROM pantry
     WHERE ingredient IN (SELECT jsonb_object_keys(recipe) FROM dish) AND on_hand > reserved
     ORDER BY ingredient FOR UPDATE
),
empty AS (
    SELECT ingredient, on_hand, reserved, version FROM pantry
     WHERE ingredient IN (SELECT jsonb_object_keys(recipe) FROM dish) AND on_hand <= reserved
)
SELECT {claimed} AS claimed, dish.*,
       (SELECT coalesce(json_agg(json_build_array(ingredient, on_hand, reserved, version)), '[]')
          FROM locked) AS pantry,
       (SELECT coalesce(json_agg(json_build_array(ingredient, on_hand, reserved, version)), '[]')
          FROM empty) AS empty
  FROM (VALUES (1)) AS one LEFT JOIN dish ON true
"""  # noqa: S608 - no input is interpolated


_CLAIMED = _take(f"${CLAIM_PARAMS + 1}", "(SELECT claimed FROM claim)")
_TAKE_CLAIMED = f"WITH claim AS ({CLAIM_SQL}),{_CLAIMED}"
_TAKE = "WITH" + _take("$1", "true")


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
        self.orders = PostgresOrders(session)
        self.dishes = PostgresDishes(session)
        self.pantry = PostgresPantry(session)
        self.idempotency = PostgresIdempotencyKeys(session)

    async def commit(self) -> None:
        await super().commit()
        if self._locked_at is not None:
            PANTRY_HOLD.observe(time.perf_counter() - self._locked_at)
            self._locked_at = None

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

    def persist(self) -> list[Event]:
        return self.orders.persist()

    def to_message(self, event: Event) -> Outgoing:
        return outgoing(event)
