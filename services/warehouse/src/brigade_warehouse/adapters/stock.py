"""Stock in PostgreSQL: balances (`stock`) beside their ledger (`stock_movements`), and purchases.

A balance and its ledger rows change in one statement, so each balance always equals its ledger's sum;
each move bumps the balance's `version`, which the stock read and `StockMoved` both carry. Of what is
on hand, `reserved` is held for requests that are buying the rest (the sum of their `held`).

The moves, purchases and holds of a unit of work are kept (`Ledger`) and written at its commit, all
in one statement: a turn of the supply loop stocks a purchase and may deliver, and a transaction takes up to
32 turns while it holds their stock rows locked, so a round trip per row would hold the locks for
dozens. The statement inserts the ledger rows and purchases in the order they were made (their ids
follow it) and updates each balance once, by the sum of its moves and holds (so only its final state
is checked: a hold on units a purchase of the same transaction brought is never ahead of them); the
balance and version after each move, which its `StockMoved` carries, follow from the final ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from brigade_common.writes import Session
from brigade_contracts.warehouse import StockReason
from brigade_warehouse.domain.events import Event, PurchaseMade, StockMoved

_LOCK = (
    "SELECT ingredient, on_hand - reserved AS free FROM stock WHERE ingredient = ANY($1::text[]) "
    "ORDER BY ingredient FOR UPDATE"
)
# $1-$5: the purchases; $6-$10: the moves (ingredient, delta, reason, request, units released from holds);
# $11-$12: the holds (ingredient, units held more or, negative, fewer). A hold is a count, not a move: no
# ledger row, no new version (what is on hand is unchanged).
_WRITE = """
WITH p AS (
  INSERT INTO purchases (request_id, ingredient, requested, received, supplier)
  SELECT request_id, ingredient, requested, received, supplier
    FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])
         WITH ORDINALITY AS t (request_id, ingredient, requested, received, supplier, n)
   ORDER BY n
  RETURNING id, created_at
), m AS (
  INSERT INTO stock_movements (ingredient, delta, reason, request_id)
  SELECT ingredient, delta, reason, request_id
    FROM unnest($6::text[], $7::bigint[], $8::text[], $9::uuid[])
         WITH ORDINALITY AS t (ingredient, delta, reason, request_id, n)
   ORDER BY n
  RETURNING id, created_at
), s AS (
  UPDATE stock SET on_hand = on_hand + c.delta, reserved = reserved + c.held, version = version + c.moves
    FROM (SELECT ingredient, sum(delta)::bigint AS delta, sum(held)::bigint AS held, sum(moves)::bigint AS moves
            FROM (SELECT ingredient, delta, -released AS held, 1 AS moves
                    FROM unnest($6::text[], $7::bigint[], $10::bigint[]) AS t (ingredient, delta, released)
                  UNION ALL
                  SELECT ingredient, 0, held, 0 FROM unnest($11::text[], $12::bigint[]) AS h (ingredient, held)) u
           GROUP BY ingredient) c
   WHERE stock.ingredient = c.ingredient
  RETURNING stock.ingredient, stock.on_hand, stock.version
)
SELECT 'p' AS kind, id, created_at, NULL::text AS ingredient, NULL::bigint AS on_hand, NULL::bigint AS version FROM p
UNION ALL SELECT 'm', id, created_at, NULL, NULL, NULL FROM m
UNION ALL SELECT 's', NULL, NULL, ingredient, on_hand, version FROM s
"""


@dataclass(frozen=True)
class _Purchase:
    request_id: str
    ingredient: str
    requested: int
    received: int
    supplier: str


@dataclass(frozen=True)
class _Hold:
    ingredient: str
    delta: int


@dataclass(frozen=True)
class _Move:
    ingredient: str
    delta: int
    reason: StockReason
    request_id: str
    released: int


class Ledger:
    """The moves, purchases and holds of one unit of work, in the order they were made, until `write`."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._entries: list[_Purchase | _Move] = []
        self._holds: list[_Hold] = []

    def purchase(self, request_id: str, ingredient: str, requested: int, received: int, supplier: str) -> None:
        self._entries.append(_Purchase(request_id, ingredient, requested, received, supplier))

    def move(self, ingredient: str, delta: int, reason: StockReason, request_id: str, released: int) -> None:
        self._entries.append(_Move(ingredient, delta, reason, request_id, released))

    def hold(self, ingredient: str, delta: int) -> None:
        self._holds.append(_Hold(ingredient, delta))

    async def write(self) -> list[Event]:
        """Write every entry in one statement; their events (`PurchaseMade`, `StockMoved`), in order."""
        entries, self._entries = self._entries, []
        holds, self._holds = self._holds, []
        if not entries and not holds:
            return []
        bought = [e for e in entries if isinstance(e, _Purchase)]
        moves = [e for e in entries if isinstance(e, _Move)]
        rows = await self._session.fetch(
            _WRITE,
            [b.request_id for b in bought],
            [b.ingredient for b in bought],
            [b.requested for b in bought],
            [b.received for b in bought],
            [b.supplier for b in bought],
            [m.ingredient for m in moves],
            [m.delta for m in moves],
            [m.reason.value for m in moves],
            [m.request_id for m in moves],
            [m.released for m in moves],
            [h.ingredient for h in holds],
            [h.delta for h in holds],
        )
        drawn: dict[str, list[tuple[int, datetime]]] = {"p": [], "m": []}
        final: dict[str, tuple[int, int]] = {}
        for r in rows:
            if r["kind"] == "s":
                final[r["ingredient"]] = (r["on_hand"], r["version"])
            else:
                drawn[r["kind"]].append((r["id"], r["created_at"]))
        missing = {m.ingredient for m in moves} - final.keys()
        assert not missing, f"no stock row for {sorted(missing)}: lock_all() them first"
        # The ids were drawn in the order the rows were inserted, which is the order they were made.
        purchase_ids, move_ids = iter(sorted(drawn["p"])), iter(sorted(drawn["m"]))
        after = iter(_after_each(moves, final))
        events: list[Event] = []
        for e in entries:
            if isinstance(e, _Purchase):
                pid, at = next(purchase_ids)
                events.append(PurchaseMade(pid, e.request_id, e.ingredient, e.requested, e.received, e.supplier, at))
            else:
                (mid, at), (balance, version) = next(move_ids), next(after)
                events.append(StockMoved(mid, e.ingredient, e.delta, e.reason, balance, e.request_id, version, at))
        return events


def _after_each(moves: list[_Move], final: dict[str, tuple[int, int]]) -> list[tuple[int, int]]:
    """Each move's balance and version right after it, in order, from each row's final ones."""
    after: list[tuple[int, int]] = []
    state = dict(final)
    for m in reversed(moves):
        on_hand, version = state[m.ingredient]
        after.append((on_hand, version))
        state[m.ingredient] = (on_hand - m.delta, version - 1)
    return after[::-1]


class PostgresStock:
    def __init__(self, session: Session, ledger: Ledger) -> None:
        self._session = session
        self._ledger = ledger

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
        self._ledger.hold(ingredient, delta)

    def move(self, ingredient: str, delta: int, reason: StockReason, request_id: str, *, released: int = 0) -> None:
        self._ledger.move(ingredient, delta, reason, request_id, released)


class PostgresPurchases:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self.recorded = 0

    def record(self, request_id: str, ingredient: str, requested: int, received: int, supplier: str) -> None:
        self._ledger.purchase(request_id, ingredient, requested, received, supplier)
        self.recorded += 1
