"""The kitchen's read side on PostgreSQL: what the HTTP API shows, read on the pool, no transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from brigade_common.db import Reads, is_uuid
from brigade_contracts.kitchen import OrderStatus, PantryReason
from brigade_kitchen.adapters.dishes import fetch_dishes
from brigade_kitchen.adapters.orders import STATE_COLUMNS, order_state
from brigade_kitchen.domain.events import OrderState
from brigade_kitchen.domain.journey import Step
from brigade_kitchen.domain.model import Balance, Dish
from brigade_kitchen.service.ports import Movement, OrderEntry


class PostgresKitchenViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._reads = Reads(pool)

    async def dishes(self, ids: Sequence[str] | None = None) -> list[Dish]:
        return await fetch_dishes(self._reads, ids)

    async def dish_ids(self) -> list[str]:
        return [r["id"] for r in await self._reads.fetch("SELECT id FROM dishes WHERE retired_at IS NULL")]

    async def image(self, digest: str) -> tuple[str, bytes] | None:
        row = await self._reads.fetchrow("SELECT content_type, data FROM dish_images WHERE sha256 = $1", digest)
        return (row["content_type"], row["data"]) if row else None

    async def order(self, order_id: str) -> OrderState | None:
        if not is_uuid(order_id):
            return None
        row = await self._reads.fetchrow(f"SELECT {STATE_COLUMNS} FROM orders o WHERE o.id = $1::uuid", order_id)  # noqa: S608
        return order_state(row) if row else None

    async def order_entry(self, order_id: str) -> OrderEntry | None:
        if not is_uuid(order_id):
            return None
        row = await self._reads.fetchrow(
            f"SELECT {STATE_COLUMNS}, o.created_at, o.updated_at FROM orders o WHERE o.id = $1::uuid",  # noqa: S608
            order_id,
        )
        return OrderEntry(order_state(row), row["created_at"], row["updated_at"]) if row else None

    async def journey(self, order_id: str) -> list[Step]:
        if not is_uuid(order_id):
            return []
        rows = await self._reads.fetch(
            "SELECT order_id::text AS order_id, key, kind, at, ingredient, amount, detail FROM order_steps "
            "WHERE order_id = $1::uuid ORDER BY at, seq",
            order_id,
        )
        return [Step(**dict(r)) for r in rows]

    async def orders_of(
        self,
        customer_id: str | None,
        *,
        statuses: frozenset[OrderStatus] = frozenset(),
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[OrderEntry]:
        rows = await self._reads.fetch(
            f"SELECT {STATE_COLUMNS}, o.created_at, o.updated_at FROM orders o "  # noqa: S608
            "WHERE ($1::text IS NULL OR o.customer_id = $1) AND ($2::text[] IS NULL OR o.status = ANY($2)) "
            "AND ($3::timestamptz IS NULL OR (o.created_at, o.id) < ($3, $4::uuid)) "
            "ORDER BY o.created_at DESC, o.id DESC LIMIT $5",
            customer_id,
            sorted(statuses) if statuses else None,
            before[0] if before else None,
            before[1] if before else None,
            limit,
        )
        return [OrderEntry(order_state(r), r["created_at"], r["updated_at"]) for r in rows]

    async def overdue(self, now: datetime, limit: int) -> list[str]:
        rows = await self._reads.fetch(
            "SELECT id::text AS id FROM orders WHERE status IN ('pending', 'reserved') AND expires_at <= $1 "
            "ORDER BY expires_at LIMIT $2",
            now,
            limit,
        )
        return [r["id"] for r in rows]

    async def pantry(self) -> list[Balance]:
        rows = await self._reads.fetch("SELECT ingredient, on_hand, reserved, version FROM pantry ORDER BY ingredient")
        return [Balance(r["ingredient"], r["on_hand"], r["reserved"], r["version"]) for r in rows]

    async def movements(self, *, before: int | None, limit: int) -> list[Movement]:
        rows = await self._reads.fetch(
            "SELECT id, ingredient, delta, reason, order_id::text AS order_id, created_at "
            "FROM pantry_movements WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            before,
            limit,
        )
        return [
            Movement(r["id"], r["ingredient"], r["delta"], PantryReason(r["reason"]), r["order_id"], r["created_at"])
            for r in rows
        ]
