"""The pantry in PostgreSQL: balances (`pantry`) beside their ledger (`pantry_movements`).

A balance and its ledger row change in one statement, so each balance always equals the sum of its
ledger. Holds (`reserved`) go through the write buffer: an order's holds on every ingredient are
sent with the rest of its writes, in the commit's one statement.
"""

from __future__ import annotations

from collections.abc import Iterable

from brigade_common.writes import Session, Table
from brigade_contracts.kitchen import PantryReason
from brigade_kitchen.domain.events import PantryMoved
from brigade_kitchen.domain.model import Balance

PANTRY = Table.of("pantry", ("ingredient", "text"), ("on_hand", "bigint"), ("reserved", "bigint"), key="ingredient")

_LOCK = (
    "SELECT ingredient, on_hand, reserved FROM pantry WHERE ingredient = ANY($1::text[]) ORDER BY ingredient FOR UPDATE"
)
_MOVE = (
    "WITH m AS (INSERT INTO pantry_movements (ingredient, delta, reason, order_id) "
    "VALUES ($1, $2, $3, $4::uuid) RETURNING id) "
    "UPDATE pantry SET on_hand = on_hand + $2, reserved = reserved + $5 WHERE ingredient = $1 "
    "RETURNING (SELECT id FROM m) AS id, on_hand, reserved"
)


class PostgresPantry:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def lock(self, ingredients: Iterable[str]) -> dict[str, Balance]:
        """One round trip when every row exists (the usual case); missing rows are created at zero."""
        names = sorted(set(ingredients))
        rows = await self._session.fetch(_LOCK, names)
        if len(rows) < len(names):
            await self._session.execute(
                "INSERT INTO pantry (ingredient) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", names
            )
            rows = await self._session.fetch(_LOCK, names)
        return {r["ingredient"]: Balance(r["ingredient"], r["on_hand"], r["reserved"]) for r in rows}

    def hold(self, ingredient: str, delta: int) -> None:
        self._session.buffer.add(PANTRY, "reserved", ingredient, delta)

    async def move(
        self, ingredient: str, delta: int, reason: PantryReason, order_id: str | None, *, hold_delta: int = 0
    ) -> PantryMoved:
        row = await self._session.fetchrow(_MOVE, ingredient, delta, reason.value, order_id, hold_delta)
        assert row is not None, f"no pantry row for {ingredient}: lock() it first"
        return PantryMoved(row["id"], ingredient, delta, reason, row["on_hand"], row["reserved"], order_id)
