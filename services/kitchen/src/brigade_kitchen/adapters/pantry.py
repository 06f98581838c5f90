"""The pantry in PostgreSQL: balances (`pantry`) beside their ledger (`pantry_movements`).

Rows are locked before they change, so the balances after a hold or a move are the locked ones plus
the change: known here, without asking the database again. So the balances go through the write
buffer, each row once in its final state, sent with the rest of the transaction's writes in the
commit's one statement. The ledger rows of a transaction's moves (`move_all`: a delivery transaction
applies up to 32 deliveries) go in one statement of their own, for their ids; every balance a
transaction changed is written in the same commit as its ledger rows, so each balance equals the sum
of its ledger. Every change of a row bumps its `version`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from brigade_common.writes import Session, Table
from brigade_kitchen.domain.events import Held, PantryHeld, PantryMoved
from brigade_kitchen.domain.model import Balance, Move

# What a hold or a move writes: the row after it (its lock makes it exact; the last write of a row wins).
BALANCES = Table.of(
    "pantry",
    ("ingredient", "text"),
    ("on_hand", "bigint"),
    ("reserved", "bigint"),
    ("version", "bigint"),
    key="ingredient",
)

_LOCK = (
    "SELECT ingredient, on_hand, reserved, version FROM pantry WHERE ingredient = ANY($1::text[]) "
    "ORDER BY ingredient FOR UPDATE"
)
# The ledger rows, inserted in the order of the moves (so their ids follow it).
_MOVES = (
    "INSERT INTO pantry_movements (ingredient, delta, reason, order_id) "
    "SELECT ingredient, delta, reason, order_id "
    "FROM unnest($1::text[], $2::bigint[], $3::text[], $4::uuid[]) "
    "WITH ORDINALITY AS t (ingredient, delta, reason, order_id, n) ORDER BY n "
    "RETURNING id, created_at"
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
            after = self._change(Balance(ingredient, row.on_hand, row.reserved + delta, row.version + 1))
            changed.append(Held(ingredient, delta, after.on_hand, after.reserved, after.version))
        return PantryHeld(order_id, tuple(changed))

    async def move_all(self, moves: Sequence[Move]) -> list[PantryMoved]:
        if not moves:
            return []
        rows = await self._session.fetch(
            _MOVES,
            [m.ingredient for m in moves],
            [m.delta for m in moves],
            [m.reason.value for m in moves],
            [m.order_id for m in moves],
        )
        events = []
        # The ids were drawn in the order the rows were inserted, which is the order of the moves.
        for m, (movement_id, at) in zip(moves, sorted((r["id"], r["created_at"]) for r in rows), strict=True):
            row = self._rows.get(m.ingredient)
            assert row is not None, f"pantry row {m.ingredient} is not locked: lock() it first"
            events.append(m.moved(movement_id, self._change(m.applied_to(row)), at))
        return events

    def _change(self, after: Balance) -> Balance:
        self._rows[after.ingredient] = after
        self._session.buffer.update(BALANCES, (after.ingredient, after.on_hand, after.reserved, after.version))
        return after
