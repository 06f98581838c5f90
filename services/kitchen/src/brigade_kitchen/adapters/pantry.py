"""The pantry in PostgreSQL: balances (`pantry`) beside their ledger (`pantry_movements`).

A balance and its ledger row change in one statement, so each balance always equals the sum of its
ledger. Holds (`reserved`) go through the write buffer: an order's holds on every ingredient are
sent with the rest of its writes, in the commit's one statement. Every change of a row bumps its
`version`. Rows are locked before they change, so the balances after a hold are the locked ones
plus the hold: known here, without asking the database again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from brigade_common.writes import Session, Table
from brigade_contracts.kitchen import PantryReason
from brigade_kitchen.domain.events import Held, PantryHeld, PantryMoved
from brigade_kitchen.domain.model import Balance

# What a hold writes: the row's `reserved` and `version` after it (its lock makes them exact).
HOLDS = Table.of("pantry", ("ingredient", "text"), ("reserved", "bigint"), ("version", "bigint"), key="ingredient")

_LOCK = (
    "SELECT ingredient, on_hand, reserved, version FROM pantry WHERE ingredient = ANY($1::text[]) "
    "ORDER BY ingredient FOR UPDATE"
)
_MOVE = (
    "WITH m AS (INSERT INTO pantry_movements (ingredient, delta, reason, order_id) "
    "VALUES ($1, $2, $3, $4::uuid) RETURNING id, created_at) "
    "UPDATE pantry SET on_hand = on_hand + $2, reserved = reserved + $5, version = version + 1 "
    "WHERE ingredient = $1 "
    "RETURNING (SELECT id FROM m) AS id, (SELECT created_at FROM m) AS created_at, on_hand, reserved, version"
)


class PostgresPantry:
    def __init__(self, session: Session) -> None:
        self._session = session
        # The locked rows as this transaction has left them, and rows it only read.
        self._rows: dict[str, Balance] = {}
        self._read: dict[str, Balance] = {}

    async def lock(self, ingredients: Iterable[str]) -> dict[str, Balance]:
        """One round trip when every row exists (the usual case); missing rows are created at zero."""
        names = sorted(set(ingredients))
        rows = await self._session.fetch(_LOCK, names)
        if len(rows) < len(names):
            await self._session.execute(
                "INSERT INTO pantry (ingredient) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", names
            )
            rows = await self._session.fetch(_LOCK, names)
        locked = {r["ingredient"]: Balance(r["ingredient"], r["on_hand"], r["reserved"], r["version"]) for r in rows}
        self._rows.update(locked)
        return locked

    def locked(self, balances: Mapping[str, Balance], read: Mapping[str, Balance] | None = None) -> None:
        """Rows this transaction locked with a statement of its own (`take_order`'s), and rows it read
        there without a lock."""
        self._rows.update(balances)
        if read:
            self._read.update(read)

    def balances(self, ingredients: Iterable[str]) -> dict[str, Balance]:
        return {name: self._rows.get(name) or self._read[name] for name in ingredients}

    def hold(self, order_id: str, holds: Mapping[str, int]) -> PantryHeld:
        changed = []
        for ingredient, delta in sorted(holds.items()):
            row = self._rows.get(ingredient)
            assert row is not None, f"pantry row {ingredient} is not locked: lock() it first"
            after = Balance(ingredient, row.on_hand, row.reserved + delta, row.version + 1)
            self._rows[ingredient] = after
            self._session.buffer.update(HOLDS, (ingredient, after.reserved, after.version))
            changed.append(Held(ingredient, delta, after.on_hand, after.reserved, after.version))
        return PantryHeld(order_id, tuple(changed))

    async def move(
        self, ingredient: str, delta: int, reason: PantryReason, order_id: str | None, *, hold_delta: int = 0
    ) -> PantryMoved:
        row = await self._session.fetchrow(_MOVE, ingredient, delta, reason.value, order_id, hold_delta)
        assert row is not None, f"no pantry row for {ingredient}: lock() it first"
        self._rows[ingredient] = Balance(ingredient, row["on_hand"], row["reserved"], row["version"])
        return PantryMoved(
            row["id"],
            ingredient,
            delta,
            reason,
            row["on_hand"],
            row["reserved"],
            order_id,
            row["version"],
            row["created_at"],
        )
