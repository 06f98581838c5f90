"""Stock in PostgreSQL: balances (`stock`) beside their ledger (`stock_movements`), and purchases.

A balance and its ledger row change in one statement, so each balance always equals its ledger's sum;
each change bumps the balance's `version`, which the stock read and `StockMoved` both carry.
"""

from __future__ import annotations

from collections.abc import Iterable

from brigade_common.writes import Session
from brigade_contracts.warehouse import StockReason
from brigade_warehouse.domain.events import PurchaseMade, StockMoved

_MOVE = (
    "WITH m AS (INSERT INTO stock_movements (ingredient, delta, reason, request_id) "
    "VALUES ($1, $2, $3, $4::uuid) RETURNING id, created_at) "
    "UPDATE stock SET on_hand = on_hand + $2, version = version + 1 WHERE ingredient = $1 "
    "RETURNING (SELECT id FROM m) AS id, (SELECT created_at FROM m) AS created_at, on_hand, version"
)


_LOCK = "SELECT ingredient, on_hand FROM stock WHERE ingredient = ANY($1::text[]) ORDER BY ingredient FOR UPDATE"


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
        return {r["ingredient"]: r["on_hand"] for r in rows}

    async def move(self, ingredient: str, delta: int, reason: StockReason, request_id: str) -> StockMoved:
        row = await self._session.fetchrow(_MOVE, ingredient, delta, reason.value, request_id)
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
