"""The warehouse's SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from brigade_common import outbox
from brigade_common.envelope import Envelope


@dataclass(frozen=True)
class Request:
    id: str
    order_id: str
    ingredient: str
    amount: int
    status: str
    deadline: datetime


class WarehouseRepo:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def emit(self, envelope: Envelope) -> None:
        await outbox.enqueue(self.conn, envelope)

    async def open_request(
        self, request_id: str, order_id: str, ingredient: str, amount: int, deadline: datetime
    ) -> None:
        """Register a supply request once; a repeat of the same request id changes nothing."""
        await self.conn.execute(
            "INSERT INTO supply_requests (id, order_id, ingredient, amount, deadline) "
            "VALUES ($1::uuid, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            request_id,
            order_id,
            ingredient,
            amount,
            deadline,
        )

    async def lock_request(self, request_id: str) -> Request | None:
        row = await self.conn.fetchrow(
            "SELECT id::text AS id, order_id, ingredient, amount, status, deadline FROM supply_requests "
            "WHERE id = $1::uuid FOR UPDATE",
            request_id,
        )
        return Request(**dict(row)) if row else None

    async def resolve_request(self, request_id: str, status: str, reason: str | None = None) -> None:
        await self.conn.execute(
            "UPDATE supply_requests SET status = $2, reason = $3, resolved_at = now() WHERE id = $1::uuid",
            request_id,
            status,
            reason,
        )

    async def lock_stock(self, ingredient: str) -> int:
        await self.conn.execute("INSERT INTO stock (ingredient) VALUES ($1) ON CONFLICT DO NOTHING", ingredient)
        on_hand: int = await self.conn.fetchval(
            "SELECT on_hand FROM stock WHERE ingredient = $1 FOR UPDATE", ingredient
        )
        return on_hand

    async def move(self, ingredient: str, delta: int, reason: str, request_id: str | None) -> tuple[int, int]:
        """A ledger row and the balance it changes, together; returns (movement id, balance)."""
        row = await self.conn.fetchrow(
            "WITH m AS (INSERT INTO stock_movements (ingredient, delta, reason, request_id) "
            "VALUES ($1, $2, $3, $4::uuid) RETURNING id) "
            "UPDATE stock SET on_hand = on_hand + $2 WHERE ingredient = $1 "
            "RETURNING (SELECT id FROM m) AS id, on_hand",
            ingredient,
            delta,
            reason,
            request_id,
        )
        assert row is not None
        return row["id"], row["on_hand"]

    async def record_purchase(
        self, request_id: str, ingredient: str, requested: int, received: int, supplier: str
    ) -> int:
        purchase_id: int = await self.conn.fetchval(
            "INSERT INTO purchases (request_id, ingredient, requested, received, supplier) "
            "VALUES ($1::uuid, $2, $3, $4, $5) RETURNING id",
            request_id,
            ingredient,
            requested,
            received,
            supplier,
        )
        return purchase_id

    async def stock(self) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.conn.fetch("SELECT ingredient, on_hand FROM stock ORDER BY ingredient")]

    async def movements(self, *, before: int | None, limit: int) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            "SELECT id, ingredient, delta, reason, request_id::text AS request_id, created_at "
            "FROM stock_movements WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            before,
            limit,
        )
        return [dict(r) for r in rows]

    async def purchases(self, *, before: int | None, limit: int) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            "SELECT id, request_id::text AS request_id, ingredient, requested, received, supplier, created_at "
            "FROM purchases WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            before,
            limit,
        )
        return [dict(r) for r in rows]
