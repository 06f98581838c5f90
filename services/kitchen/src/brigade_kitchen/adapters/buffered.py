"""A `KitchenRepo` that holds a transaction's writes and sends them in one statement at `flush`.

Placing an order takes the pantry row locks and then only writes (reserve, lines, order update, outbox
rows). Each write is a round trip, and every round trip made while the locks are held makes every other
order of the same dish wait longer: the lock convoy. This repository keeps those writes in memory and
`flush` sends them all as one statement (data-modifying CTEs), so the locks are held for two round
trips (the flush and the COMMIT) instead of seven or more.

Same SQL effects as `KitchenRepo`, in the same transaction:
- an order inserted and then updated is inserted once in its final state (sibling CTEs cannot see each
  other's rows, so the two are merged here);
- reservation deltas of one ingredient are summed; outbox rows keep their order (`seq`);
- anything that reads (or writes unbuffered) first flushes what is pending, so a read always sees the
  transaction's own writes. `lock_pantry` flushes only when a reservation is pending.
`buffered_transaction` flushes right before the commit, so no write can be left behind.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from brigade_common.envelope import Envelope
from brigade_contracts.kitchen import OrderSnapshot
from brigade_kitchen.adapters.repository import Balance, KitchenRepo, Line, SupplyRequest


@dataclass
class _Pending:
    inserts: dict[str, OrderSnapshot] = field(default_factory=dict)
    updates: dict[str, OrderSnapshot] = field(default_factory=dict)
    reserved: dict[str, int] = field(default_factory=dict)
    lines: list[tuple[str, Line]] = field(default_factory=list)
    supply: list[SupplyRequest] = field(default_factory=list)
    outbox: list[tuple[str, str, str, bytes]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.updates or self.reserved or self.lines or self.supply or self.outbox)


class _Statement:
    """Builds `WITH a AS (…), b AS (…) SELECT 1` with numbered parameters."""

    def __init__(self) -> None:
        self.ctes: list[str] = []
        self.args: list[Any] = []

    def arg(self, value: Any, sql_type: str) -> str:
        self.args.append(value)
        return f"${len(self.args)}::{sql_type}"

    def sql(self) -> str:
        names = ", ".join(f"w{i} AS ({cte})" for i, cte in enumerate(self.ctes))
        return f"WITH {names} SELECT 1"


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


class BufferedKitchenRepo(KitchenRepo):
    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__(conn)
        self._pending = _Pending()

    # ----------------------------------------------------------------------------- buffered writes

    async def emit(
        self, envelope: Envelope, *, subject: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        h = envelope.headers()
        if headers:
            h.update(headers)
        self._pending.outbox.append((envelope.id, subject or envelope.type, json.dumps(h), envelope.to_bytes()))

    async def insert_order(self, order: OrderSnapshot) -> None:
        self._pending.inserts[order.order_id] = order

    async def update_order(self, order: OrderSnapshot) -> None:
        if order.order_id in self._pending.inserts:
            self._pending.inserts[order.order_id] = order
        else:
            self._pending.updates[order.order_id] = order

    async def change_reserved(self, ingredient: str, delta: int) -> None:
        self._pending.reserved[ingredient] = self._pending.reserved.get(ingredient, 0) + delta

    async def insert_lines(self, order_id: str, lines: Iterable[Line]) -> None:
        self._pending.lines.extend((order_id, ln) for ln in lines)

    async def insert_supply_request(self, req: SupplyRequest) -> None:
        self._pending.supply.append(req)

    # ------------------------------------------------------------------------------------- flush

    async def flush(self) -> None:
        """Send every pending write in one statement (nothing to do when nothing is pending)."""
        p = self._pending
        if not p:
            return
        self._pending = _Pending()
        st = _Statement()
        if p.inserts:
            rows = [
                (
                    o.order_id,
                    o.customer_id,
                    o.dish_id,
                    o.dish_name,
                    o.quantity,
                    o.total_cents,
                    o.status,
                    o.version,
                    o.expires_at,
                    o.reason,
                )
                for o in p.inserts.values()
            ]
            c = _columns(rows, 10)
            st.ctes.append(
                "INSERT INTO orders (id, customer_id, dish_id, dish_name, quantity, total_cents, status, version, "  # noqa: S608 - only $n placeholders are interpolated
                "expires_at, reason) SELECT * FROM unnest("
                f"{st.arg(c[0], 'uuid[]')}, {st.arg(c[1], 'text[]')}, {st.arg(c[2], 'text[]')}, "
                f"{st.arg(c[3], 'text[]')}, {st.arg(c[4], 'int[]')}, {st.arg(c[5], 'bigint[]')}, "
                f"{st.arg(c[6], 'text[]')}, {st.arg(c[7], 'int[]')}, {st.arg(c[8], 'timestamptz[]')}, "
                f"{st.arg(c[9], 'text[]')})"
            )
        if p.updates:
            updates = [(o.order_id, o.status, o.version, o.expires_at, o.reason) for o in p.updates.values()]
            c = _columns(updates, 5)
            st.ctes.append(
                "UPDATE orders SET status = v.status, version = v.version, expires_at = v.expires_at, "  # noqa: S608 - only $n placeholders are interpolated
                "reason = v.reason, updated_at = now() FROM unnest("
                f"{st.arg(c[0], 'uuid[]')}, {st.arg(c[1], 'text[]')}, {st.arg(c[2], 'int[]')}, "
                f"{st.arg(c[3], 'timestamptz[]')}, {st.arg(c[4], 'text[]')}) "
                "AS v(id, status, version, expires_at, reason) WHERE orders.id = v.id"
            )
        if p.reserved:
            names = sorted(p.reserved)
            st.ctes.append(
                "UPDATE pantry SET reserved = pantry.reserved + v.delta FROM unnest("  # noqa: S608 - only $n placeholders are interpolated
                f"{st.arg(names, 'text[]')}, {st.arg([p.reserved[n] for n in names], 'bigint[]')}) "
                "AS v(ingredient, delta) WHERE pantry.ingredient = v.ingredient"
            )
        if p.lines:
            c = _columns([(oid, ln.ingredient, ln.needed, ln.reserved) for oid, ln in p.lines], 4)
            st.ctes.append(
                "INSERT INTO order_lines (order_id, ingredient, needed, reserved) SELECT * FROM unnest("  # noqa: S608 - only $n placeholders are interpolated
                f"{st.arg(c[0], 'uuid[]')}, {st.arg(c[1], 'text[]')}, {st.arg(c[2], 'bigint[]')}, "
                f"{st.arg(c[3], 'bigint[]')})"
            )
        if p.supply:
            c = _columns([(r.id, r.order_id, r.ingredient, r.amount, r.status) for r in p.supply], 5)
            st.ctes.append(
                "INSERT INTO supply_requests (id, order_id, ingredient, amount, status) SELECT * FROM unnest("  # noqa: S608 - only $n placeholders are interpolated
                f"{st.arg(c[0], 'uuid[]')}, {st.arg(c[1], 'uuid[]')}, {st.arg(c[2], 'text[]')}, "
                f"{st.arg(c[3], 'bigint[]')}, {st.arg(c[4], 'text[]')})"
            )
        if p.outbox:
            c = _columns(p.outbox, 4)
            st.ctes.append(
                "INSERT INTO outbox (id, subject, headers, payload) SELECT v.id, v.subject, v.headers::jsonb, "  # noqa: S608 - only $n placeholders are interpolated
                f"v.payload FROM unnest({st.arg(c[0], 'text[]')}, {st.arg(c[1], 'text[]')}, "
                f"{st.arg(c[2], 'text[]')}, {st.arg(c[3], 'bytea[]')}) WITH ORDINALITY "
                "AS v(id, subject, headers, payload, n) ORDER BY v.n"
            )
        await self.conn.execute(st.sql(), *st.args)

    # ------------------------------------------------------------- reads see the pending writes

    async def lock_pantry(self, ingredients: Iterable[str]) -> dict[str, Balance]:
        """Lock in sorted order: one round trip when every row exists (the usual case)."""
        if self._pending.reserved:
            await self.flush()
        names = sorted(set(ingredients))
        rows = await self.conn.fetch(
            "SELECT ingredient, on_hand, reserved FROM pantry WHERE ingredient = ANY($1::text[]) "
            "ORDER BY ingredient FOR UPDATE",
            names,
        )
        if len(rows) < len(names):
            return await super().lock_pantry(names)
        return {r["ingredient"]: Balance(**dict(r)) for r in rows}

    async def move(
        self, ingredient: str, delta: int, reason: str, order_id: str | None, reserved_delta: int = 0
    ) -> tuple[int, Balance]:
        await self.flush()
        return await super().move(ingredient, delta, reason, order_id, reserved_delta)

    async def pantry(self) -> list[Balance]:
        await self.flush()
        return await super().pantry()

    async def order(self, order_id: str, *, lock: bool = False) -> OrderSnapshot | None:
        await self.flush()
        return await super().order(order_id, lock=lock)

    async def orders_of(
        self, customer_id: str, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[tuple[OrderSnapshot, datetime]]:
        await self.flush()
        return await super().orders_of(customer_id, before=before, limit=limit)

    async def lines(self, order_id: str) -> list[Line]:
        await self.flush()
        return await super().lines(order_id)

    async def add_line_reserved(self, order_id: str, ingredient: str, delta: int) -> None:
        await self.flush()
        await super().add_line_reserved(order_id, ingredient, delta)

    async def clear_line_reservations(self, order_id: str) -> None:
        await self.flush()
        await super().clear_line_reservations(order_id)

    async def lock_supply_request(self, request_id: str) -> SupplyRequest | None:
        await self.flush()
        return await super().lock_supply_request(request_id)

    async def resolve_supply_request(self, request_id: str, status: str) -> None:
        await self.flush()
        await super().resolve_supply_request(request_id, status)


@asynccontextmanager
async def buffered_transaction(conn: asyncpg.Connection) -> AsyncIterator[BufferedKitchenRepo]:
    """A transaction whose writes go out in one statement just before it commits (none on error)."""
    async with conn.transaction():
        repo = BufferedKitchenRepo(conn)
        yield repo
        await repo.flush()
