"""The order replica in PostgreSQL (`orders`): what the payments service knows of the kitchen's orders.

A snapshot is written only over an older version, in the statement itself (`ON CONFLICT … WHERE`):
two snapshots of one order handled at once (the consumer runs 16 messages side by side) cannot
move the replica backwards, whichever commits last.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from brigade_common.writes import Session, Table
from brigade_contracts.kitchen import OrderStatus
from brigade_payments.domain.model import OrderState

ORDERS = Table.of(
    "orders",
    ("order_id", "uuid"),
    ("customer_id", "text"),
    ("total_cents", "bigint"),
    ("status", "text"),
    ("version", "int"),
    conflict="ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, "
    "total_cents = EXCLUDED.total_cents, status = EXCLUDED.status, version = EXCLUDED.version, "
    "updated_at = now() WHERE orders.version < EXCLUDED.version",
)
COLUMNS = "order_id::text AS order_id, customer_id, total_cents, status, version"


def order_state(row: asyncpg.Record | dict[str, Any]) -> OrderState:
    return OrderState(
        row["order_id"], row["customer_id"], row["total_cents"], OrderStatus(row["status"]), row["version"]
    )


class PostgresOrders:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def get(self, order_id: str) -> OrderState | None:
        row = await self._session.fetchrow(f"SELECT {COLUMNS} FROM orders WHERE order_id = $1::uuid", order_id)  # noqa: S608
        return order_state(row) if row else None

    def save(self, order: OrderState) -> None:
        self._session.buffer.insert(
            ORDERS, (order.order_id, order.customer_id, order.total_cents, order.status.value, order.version)
        )
