"""Writes held back and sent in one statement: a `WriteBuffer` and the `Session` that flushes it.

A transaction that locks hot rows (the pantry) and then only writes pays one round trip per write
while every other transaction waits on those locks. The buffer keeps the writes in memory and
`flush` sends them all as one statement of data-modifying CTEs, in the order their tables were first
written:

- `insert(table, row)`  rows of one table go out as one `INSERT … SELECT FROM unnest(…)`, in the order
  they were added (so a `bigserial` such as the outbox's `seq` follows that order);
- `update(table, row)`  rows keyed by the table's `key` columns: the last update of a key wins;
- `add(table, column, key, delta)`  increments of one column, summed per key.

Sibling CTEs do not see each other's rows, so a row must not be inserted and updated in one flush
(the repositories write an aggregate once, in its final state). Every query made through the
`Session` flushes first, so a read always sees the transaction's own writes and writes keep their
order: there is no way to reach the connection that skips the flush.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import asyncpg


@dataclass(frozen=True)
class Column:
    """A column as the buffer sends it: the SQL type of its array, and the cast to the column's type
    when the column's own type cannot travel as an array parameter (jsonb: `text` + `jsonb`)."""

    name: str
    type: str
    cast: str | None = None

    def select(self, alias: str) -> str:
        return f"{alias}.{self.name}::{self.cast}" if self.cast else f"{alias}.{self.name}"


@dataclass(frozen=True)
class Table:
    """The columns of a table that a buffer writes; `key` names the columns updates match on."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    # Extra assignments of every update (e.g. `updated_at = now()`).
    on_update: str = ""
    # Appended to every insert (e.g. `ON CONFLICT DO NOTHING`).
    conflict: str = ""

    @classmethod
    def of(
        cls,
        name: str,
        *columns: tuple[str, str] | tuple[str, str, str],
        key: str | tuple[str, ...] = (),
        on_update: str = "",
        conflict: str = "",
    ) -> Table:
        """`Table.of("outbox", ("id", "text"), ("headers", "text", "jsonb"), …)`."""
        keys = (key,) if isinstance(key, str) else tuple(key)
        return cls(name, tuple(Column(*c) for c in columns), keys, on_update, conflict)

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        # Tables key the buffer's writes and, in a flush's shape, its statement text: a flush hashes
        # each table several times, and a dataclass's own hash would walk every column each time.
        return hash((self.name, self.columns, self.key, self.on_update, self.conflict))

    def only(self, *names: str) -> Table:
        """The same table with only these columns (its key among them): for updates of a few."""
        return Table(self.name, tuple(self.column(n) for n in names), self.key, self.on_update, self.conflict)

    def key_of(self, row: Sequence[Any]) -> Any:
        """The key of a row given in column order (one value, or a tuple of them)."""
        names = [c.name for c in self.columns]
        values = tuple(row[names.index(k)] for k in self.key)
        return values[0] if len(values) == 1 else values

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


class _Params:
    """Numbers the parameters of a statement being written: `$1::uuid[]`, `$2::text[]`, …"""

    def __init__(self) -> None:
        self.count = 0

    def next(self, sql_type: str) -> str:
        self.count += 1
        return f"${self.count}::{sql_type}[]"

    def unnest(self, columns: Sequence[Column]) -> str:
        return f"unnest({', '.join(self.next(col.type) for col in columns)})"


def _insert(params: _Params, table: Table) -> str:
    names = ", ".join(c.name for c in table.columns)
    selected = ", ".join(c.select("v") for c in table.columns)
    source = params.unnest(table.columns)
    return (
        f"INSERT INTO {table.name} ({names}) SELECT {selected} FROM {source} "  # noqa: S608 - identifiers come from code, values are $n
        f"WITH ORDINALITY AS v({names}, n) ORDER BY v.n {table.conflict}"
    ).rstrip()


def _update(params: _Params, table: Table) -> str:
    assert table.key, f"{table.name}: updates need a key"
    names = ", ".join(c.name for c in table.columns)
    sets = [f"{c.name} = {c.select('v')}" for c in table.columns if c.name not in table.key]
    if table.on_update:
        sets.append(table.on_update)
    match = " AND ".join(f"{table.name}.{k} = {table.column(k).select('v')}" for k in table.key)
    source = params.unnest(table.columns)
    return f"UPDATE {table.name} SET {', '.join(sets)} FROM {source} AS v({names}) WHERE {match}"  # noqa: S608 - as above


def _add(params: _Params, table: Table, column: str) -> str:
    assert len(table.key) == 1, f"{table.name}: increments need a one-column key"
    key = table.column(table.key[0])
    return (
        f"UPDATE {table.name} SET {column} = {table.name}.{column} + v.delta "  # noqa: S608 - as above
        f"FROM unnest({params.next(key.type)}, {params.next('bigint')}) AS v(k, delta) "
        f"WHERE {table.name}.{key.name} = v.k"
    )


def _arrays(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


def insert_sql(table: Table, rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """One `INSERT` of `rows` (in their order) and its parameters."""
    return _insert(_Params(), table), _arrays(rows, len(table.columns))


# What a flush writes, as (kind, table, column), always gives the same text: it is written once per
# shape (a busy service has a handful), so a flush only gathers its values.
Shape = tuple[tuple[str, Table, str], ...]
_TEXTS: dict[Shape, str] = {}
MAX_SHAPES = 256


def _text(shape: Shape) -> str:
    text = _TEXTS.get(shape)
    if text is None:
        params = _Params()
        ctes = []
        for kind, table, column in shape:
            if kind == "insert":
                ctes.append(_insert(params, table))
            elif kind == "update":
                ctes.append(_update(params, table))
            else:
                ctes.append(_add(params, table, column))
        text = "WITH " + ", ".join(f"w{i} AS ({cte})" for i, cte in enumerate(ctes)) + " SELECT 1"
        if len(_TEXTS) < MAX_SHAPES:
            _TEXTS[shape] = text
    return text


@dataclass
class _Writes:
    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    updates: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    adds: dict[str, dict[Any, int]] = field(default_factory=dict)


class WriteBuffer:
    """Writes kept in memory until `statement()` turns them into one SQL statement."""

    def __init__(self) -> None:
        self._tables: dict[Table, _Writes] = {}

    def __bool__(self) -> bool:
        return bool(self._tables)

    def _writes(self, table: Table) -> _Writes:
        writes = self._tables.get(table)
        if writes is None:
            writes = self._tables[table] = _Writes()
        return writes

    def insert(self, table: Table, row: Sequence[Any]) -> None:
        """A row to insert, its values in the order of `table.columns`."""
        self._writes(table).inserts.append(tuple(row))

    def update(self, table: Table, row: Sequence[Any]) -> None:
        """A row to update by `table.key`, every column in the order of `table.columns`."""
        assert table.key, f"{table.name}: updates need a key"
        values = tuple(row)
        self._writes(table).updates[table.key_of(values)] = values

    def add(self, table: Table, column: str, key: Any, delta: int) -> None:
        """`column += delta` on the row whose `table.key` is `key` (summed with earlier increments)."""
        per_key = self._writes(table).adds.setdefault(column, {})
        per_key[key] = per_key.get(key, 0) + delta

    def statement(self) -> tuple[str, list[Any]] | None:
        """Everything pending as one statement (and forget it); None when nothing is pending."""
        if not self._tables:
            return None
        tables, self._tables = self._tables, {}
        shape: list[tuple[str, Table, str]] = []
        args: list[Any] = []
        for table, writes in tables.items():
            width = len(table.columns)
            if writes.inserts:
                shape.append(("insert", table, ""))
                args += _arrays(writes.inserts, width)
            if writes.updates:
                shape.append(("update", table, ""))
                args += _arrays(list(writes.updates.values()), width)
            for column, deltas in writes.adds.items():
                keys = sorted(k for k, d in deltas.items() if d)
                if keys:
                    shape.append(("add", table, column))
                    args += [keys, [deltas[k] for k in keys]]
        if not shape:
            return None
        return _text(tuple(shape)), args


class Session:
    """One connection inside one transaction, with a write buffer that every query flushes first."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.buffer = WriteBuffer()

    async def flush(self) -> None:
        """Send what the buffer holds (one round trip; none when it is empty)."""
        pending = self.buffer.statement()
        if pending is not None:
            await self._conn.execute(pending[0], *pending[1])

    async def execute(self, query: str, *args: Any) -> str:
        await self.flush()
        result: str = await self._conn.execute(query, *args)
        return result

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        await self.flush()
        rows: list[asyncpg.Record] = await self._conn.fetch(query, *args)
        return rows

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        await self.flush()
        return await self._conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        await self.flush()
        return await self._conn.fetchval(query, *args)
