"""The kitchen's SQL: every statement the use cases need, on one connection inside one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from brigade_common import outbox
from brigade_common.envelope import Envelope
from brigade_contracts.kitchen import OrderSnapshot


@dataclass(frozen=True)
class Dish:
    id: str
    name: str
    description: str
    image_url: str | None
    price_cents: int
    version: int
    recipe: dict[str, int]


@dataclass(frozen=True)
class Balance:
    ingredient: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class Line:
    ingredient: str
    needed: int
    reserved: int


@dataclass(frozen=True)
class SupplyRequest:
    id: str
    order_id: str
    ingredient: str
    amount: int
    status: str


ORDER_COLUMNS = (
    "id::text AS order_id, customer_id, dish_id, dish_name, quantity, total_cents, status, version, expires_at, reason"
)


def _snapshot(row: asyncpg.Record) -> OrderSnapshot:
    return OrderSnapshot(**dict(row))


class KitchenRepo:
    """SQL adapter; created per transaction by the unit of work."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.pending: list[Envelope] = []

    # ------------------------------------------------------------------------------------ outbox

    async def emit(
        self, envelope: Envelope, *, subject: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        await outbox.enqueue(self.conn, envelope, subject=subject, headers=headers)

    # ------------------------------------------------------------------------------------ dishes

    async def dishes(self, ids: Iterable[str] | None = None) -> list[Dish]:
        rows = await self.conn.fetch(
            "SELECT d.id, d.name, d.description, d.image_url, d.price_cents, d.version, "
            "coalesce(jsonb_object_agg(i.ingredient, i.amount) FILTER (WHERE i.ingredient IS NOT NULL), "
            "'{}'::jsonb) AS recipe "
            "FROM dishes d LEFT JOIN dish_ingredients i ON i.dish_id = d.id "
            "WHERE $1::text[] IS NULL OR d.id = ANY($1::text[]) "
            "GROUP BY d.id ORDER BY d.name",
            list(ids) if ids is not None else None,
        )
        return [Dish(**dict(r)) for r in rows]

    async def dish(self, dish_id: str) -> Dish | None:
        found = await self.dishes([dish_id])
        return found[0] if found else None

    async def dish_ids(self) -> list[str]:
        return [r["id"] for r in await self.conn.fetch("SELECT id FROM dishes")]

    # ------------------------------------------------------------------------------------ pantry

    async def lock_pantry(self, ingredients: Iterable[str]) -> dict[str, Balance]:
        """Lock pantry rows in a fixed (sorted) order, creating missing ones at zero."""
        names = sorted(set(ingredients))
        await self.conn.execute(
            "INSERT INTO pantry (ingredient) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", names
        )
        rows = await self.conn.fetch(
            "SELECT ingredient, on_hand, reserved FROM pantry WHERE ingredient = ANY($1::text[]) "
            "ORDER BY ingredient FOR UPDATE",
            names,
        )
        return {r["ingredient"]: Balance(**dict(r)) for r in rows}

    async def change_reserved(self, ingredient: str, delta: int) -> None:
        await self.conn.execute("UPDATE pantry SET reserved = reserved + $2 WHERE ingredient = $1", ingredient, delta)

    async def move(
        self, ingredient: str, delta: int, reason: str, order_id: str | None, reserved_delta: int = 0
    ) -> tuple[int, Balance]:
        """Write a ledger row and the balance it changes, together; returns (movement id, balance)."""
        row = await self.conn.fetchrow(
            "WITH m AS (INSERT INTO pantry_movements (ingredient, delta, reason, order_id) "
            "VALUES ($1, $2, $3, $4::uuid) RETURNING id) "
            "UPDATE pantry SET on_hand = on_hand + $2, reserved = reserved + $5 WHERE ingredient = $1 "
            "RETURNING (SELECT id FROM m) AS id, ingredient, on_hand, reserved",
            ingredient,
            delta,
            reason,
            order_id,
            reserved_delta,
        )
        assert row is not None
        return row["id"], Balance(row["ingredient"], row["on_hand"], row["reserved"])

    async def pantry(self) -> list[Balance]:
        rows = await self.conn.fetch("SELECT ingredient, on_hand, reserved FROM pantry ORDER BY ingredient")
        return [Balance(**dict(r)) for r in rows]

    async def movements(self, *, before: int | None, limit: int) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            "SELECT id, ingredient, delta, reason, order_id::text AS order_id, created_at "
            "FROM pantry_movements WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            before,
            limit,
        )
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------------------------ orders

    async def insert_order(self, order: OrderSnapshot) -> None:
        await self.conn.execute(
            "INSERT INTO orders (id, customer_id, dish_id, dish_name, quantity, total_cents, status, version) "
            "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8)",
            order.order_id,
            order.customer_id,
            order.dish_id,
            order.dish_name,
            order.quantity,
            order.total_cents,
            order.status,
            order.version,
        )

    async def insert_lines(self, order_id: str, lines: Iterable[Line]) -> None:
        await self.conn.executemany(
            "INSERT INTO order_lines (order_id, ingredient, needed, reserved) VALUES ($1::uuid, $2, $3, $4)",
            [(order_id, ln.ingredient, ln.needed, ln.reserved) for ln in lines],
        )

    async def lines(self, order_id: str) -> list[Line]:
        rows = await self.conn.fetch(
            "SELECT ingredient, needed, reserved FROM order_lines WHERE order_id = $1::uuid ORDER BY ingredient",
            order_id,
        )
        return [Line(**dict(r)) for r in rows]

    async def add_line_reserved(self, order_id: str, ingredient: str, delta: int) -> None:
        await self.conn.execute(
            "UPDATE order_lines SET reserved = reserved + $3 WHERE order_id = $1::uuid AND ingredient = $2",
            order_id,
            ingredient,
            delta,
        )

    async def clear_line_reservations(self, order_id: str) -> None:
        await self.conn.execute("UPDATE order_lines SET reserved = 0 WHERE order_id = $1::uuid", order_id)

    async def order(self, order_id: str, *, lock: bool = False) -> OrderSnapshot | None:
        try:
            uuid.UUID(order_id)
        except ValueError:
            return None
        suffix = " FOR UPDATE" if lock else ""
        row = await self.conn.fetchrow(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1::uuid{suffix}",  # noqa: S608
            order_id,
        )
        return _snapshot(row) if row else None

    async def update_order(self, order: OrderSnapshot) -> None:
        await self.conn.execute(
            "UPDATE orders SET status = $2, version = $3, expires_at = $4, reason = $5, updated_at = now() "
            "WHERE id = $1::uuid",
            order.order_id,
            order.status,
            order.version,
            order.expires_at,
            order.reason,
        )

    async def orders_of(
        self, customer_id: str, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[tuple[OrderSnapshot, datetime]]:
        rows = await self.conn.fetch(
            f"SELECT {ORDER_COLUMNS}, created_at FROM orders WHERE customer_id = $1 "  # noqa: S608
            "AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid)) "
            "ORDER BY created_at DESC, id DESC LIMIT $4",
            customer_id,
            before[0] if before else None,
            before[1] if before else None,
            limit,
        )
        out = []
        for r in rows:
            d = dict(r)
            created = d.pop("created_at")
            out.append((OrderSnapshot(**d), created))
        return out

    # ---------------------------------------------------------------------------- supply requests

    async def insert_supply_request(self, req: SupplyRequest) -> None:
        await self.conn.execute(
            "INSERT INTO supply_requests (id, order_id, ingredient, amount, status) "
            "VALUES ($1::uuid, $2::uuid, $3, $4, $5)",
            req.id,
            req.order_id,
            req.ingredient,
            req.amount,
            req.status,
        )

    async def lock_supply_request(self, request_id: str) -> SupplyRequest | None:
        try:
            uuid.UUID(request_id)
        except ValueError:
            return None
        row = await self.conn.fetchrow(
            "SELECT id::text AS id, order_id::text AS order_id, ingredient, amount, status "
            "FROM supply_requests WHERE id = $1::uuid FOR UPDATE",
            request_id,
        )
        return SupplyRequest(**dict(row)) if row else None

    async def resolve_supply_request(self, request_id: str, status: str) -> None:
        await self.conn.execute(
            "UPDATE supply_requests SET status = $2, resolved_at = now() WHERE id = $1::uuid",
            request_id,
            status,
        )
