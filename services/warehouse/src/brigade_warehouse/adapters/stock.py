"""Stock in PostgreSQL: balances (`stock`) beside their ledger (`stock_movements`), and purchases.

A balance and its ledger row change in one statement, so each balance always equals its ledger's sum;
each change bumps the balance's `version`, which the stock read and `StockMoved` both carry. Of what is
on hand, `reserved` is held for requests that are buying the rest (the sum of their `held`).
"""

from __future__ import annotations

from collections.abc import Iterable

from brigade_common.writes import Session, Table
from brigade_contracts.warehouse import StockReason
from brigade_warehouse.domain.events import PurchaseMade, StockMoved

_MOVE = (
    "WITH m AS (INSERT INTO stock_movements (ingredient, delta, reason, request_id) "
    "VALUES ($1, $2, $3, $4::uuid) RETURNING id, created_at) "
    "UPDATE stock SET on_hand = on_hand + $2, reserved = reserved - $5, version = version + 1 WHERE ingredient = $1 "
    "RETURNING (SELECT id FROM m) AS id, (SELECT created_at FROM m) AS created_at, on_hand, version"
)
# Holds are counts, not movements: no ledger row, no new version (what is on hand is unchanged).
HELD = Table.of("stock", ("ingredient", "text"), ("reserved", "bigint"), key="ingredient")

_LOCK = (
    "SELECT ingredient, on_hand - reserved AS free FROM stock WHERE ingredient = ANY($1::text[]) "
    "ORDER BY ingredient FOR UPDATE"
)


class PostgresStock:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def lock_all(self, ingredients: Iterable[str]) -> dict[str, int]:
        names = sorted(set(ingredients))
        if not names:
            return {}
        rows = await self._session.fetch(_LOCK, names)
        if len(rows) < len(names):
            await self._session.execute(
                "INSERT INTO stock (ingredient) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", names
            )
            rows = await self._session.fetch(_LOCK, names)
        return {r["ingredient"]: r["free"] for r in rows}

    def hold(self, ingredient: str, delta: int) -> None:
        self._session.buffer.add(HELD, "reserved", ingredient, delta)

    async def move(
        self, ingredient: str, delta: int, reason: StockReason, request_id: str, *, released: int = 0
    ) -> StockMoved:
        row = await self._session.fetchrow(_MOVE, ingredient, delta, reason.value, request_id, released)
        assert row is not None, f"no stock row for {ingredient}: lock_all() it first"
        return StockMoved(
            row["id"], ingredient, delta, reason, row["on_hand"], request_id, row["version"], row["created_at"]
        )


class PostgresPurchases:
    def __init__(self, session: Session) -> None:
        self._session = session
        self.recorded = 0

    async def record(
        self, request_id: str, ingredient: str, requested: int, received: int, supplier: str
    ) -> PurchaseMade:
        row = await self._session.fetchrow(
            "INSERT INTO purchases (request_id, ingredient, requested, received, supplier) "
            "VALUES ($1::uuid, $2, $3, $4, $5) RETURNING id, created_at",
            request_id,
            ingredient,
            requested,
            received,
            supplier,
        )
        assert row is not None
        self.recorded += 1
        return PurchaseMade(row["id"], request_id, ingredient, requested, received, supplier, row["created_at"])
