"""The warehouse's read side on PostgreSQL: what its HTTP API shows."""

from __future__ import annotations

import asyncpg

from brigade_common.db import Reads
from brigade_contracts.warehouse import StockReason
from brigade_warehouse.service.ports import MovementRow, PurchaseRow, StockLevel


class PostgresWarehouseViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._reads = Reads(pool)

    async def stock(self) -> list[StockLevel]:
        rows = await self._reads.fetch("SELECT ingredient, on_hand, reserved, version FROM stock ORDER BY ingredient")
        return [StockLevel(r["ingredient"], r["on_hand"], r["reserved"], r["version"]) for r in rows]

    async def movements(self, *, before: int | None, limit: int) -> list[MovementRow]:
        rows = await self._reads.fetch(
            "SELECT id, ingredient, delta, reason, request_id::text AS request_id, created_at "
            "FROM stock_movements WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            before,
            limit,
        )
        return [
            MovementRow(
                r["id"], r["ingredient"], r["delta"], StockReason(r["reason"]), r["request_id"], r["created_at"]
            )
            for r in rows
        ]

    async def purchases(self, *, before: int | None, limit: int) -> list[PurchaseRow]:
        rows = await self._reads.fetch(
            "SELECT id, request_id::text AS request_id, ingredient, requested, received, supplier, created_at "
            "FROM purchases WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            before,
            limit,
        )
        return [PurchaseRow(**dict(r)) for r in rows]
