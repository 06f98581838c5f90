"""The payments service's read side on PostgreSQL: what the HTTP API shows, read on the pool."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from brigade_common.db import Reads
from brigade_payments.adapters.orders import COLUMNS as ORDER_COLUMNS
from brigade_payments.adapters.orders import order_state
from brigade_payments.adapters.payments import STATE_COLUMNS, payment_state
from brigade_payments.domain.model import OrderState, PaymentState


class PostgresPaymentsViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._reads = Reads(pool)

    async def order(self, order_id: str) -> OrderState | None:
        row = await self._reads.fetchrow(f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = $1::uuid", order_id)  # noqa: S608
        return order_state(row) if row else None

    async def payment(self, payment_id: str) -> PaymentState | None:
        row = await self._reads.fetchrow(f"SELECT {STATE_COLUMNS} FROM payments WHERE id = $1::uuid", payment_id)  # noqa: S608
        return payment_state(row) if row else None

    async def payments(
        self, *, customer_id: str | None, order_id: str | None, before: tuple[datetime, str] | None, limit: int
    ) -> list[PaymentState]:
        rows = await self._reads.fetch(
            f"SELECT {STATE_COLUMNS} FROM payments "  # noqa: S608
            "WHERE ($1::text IS NULL OR customer_id = $1) AND ($2::uuid IS NULL OR order_id = $2) "
            "AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid)) "
            "ORDER BY created_at DESC, id DESC LIMIT $5",
            customer_id,
            order_id,
            before[0] if before else None,
            before[1] if before else None,
            limit,
        )
        return [payment_state(r) for r in rows]

    async def stuck(self, started_before: datetime, limit: int) -> list[str]:
        rows = await self._reads.fetch(
            "SELECT id::text AS id FROM payments WHERE status = 'processing' AND created_at < $1 "
            "ORDER BY created_at LIMIT $2",
            started_before,
            limit,
        )
        return [r["id"] for r in rows]
