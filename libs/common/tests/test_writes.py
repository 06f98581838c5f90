"""The write buffer and its session against real PostgreSQL: one statement, same effects."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from brigade_common.writes import Session, Table, WriteBuffer

ITEMS = Table.of("items", ("id", "int"), ("name", "text"), ("qty", "bigint"), key="id")
ITEM_QTY = Table.of("items", ("id", "int"), ("qty", "bigint"), key="id", on_update="touched = true")
LOG = Table.of("log", ("line", "text"))
TAGS = Table.of("tags", ("item_id", "int"), ("tag", "text"), ("weight", "int"), key=("item_id", "tag"))


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(database_url)
    await c.execute(
        "CREATE TABLE items (id int PRIMARY KEY, name text, qty bigint NOT NULL CHECK (qty >= 0), "
        "touched bool NOT NULL DEFAULT false);"
        "CREATE TABLE log (seq bigserial PRIMARY KEY, line text NOT NULL);"
        "CREATE TABLE tags (item_id int, tag text, weight int, PRIMARY KEY (item_id, tag));"
    )
    yield c
    await c.close()


class CountingConnection:
    """Counts the statements a session sends (to show the buffer's one round trip)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.statements = 0

    def __getattr__(self, name: str) -> object:
        method = getattr(self.conn, name)

        async def counted(*args: object) -> object:
            self.statements += 1
            return await method(*args)

        return counted


async def test_buffered_writes_go_out_in_one_statement_with_the_effects_of_each(conn: asyncpg.Connection) -> None:
    await conn.execute("INSERT INTO items VALUES (1, 'salt', 10), (2, 'pepper', 5)")
    counting = CountingConnection(conn)
    session = Session(counting)  # type: ignore[arg-type]
    async with conn.transaction():
        session.buffer.insert(ITEMS, (3, "oil", 1))
        session.buffer.add(ITEMS, "qty", 1, -4)
        session.buffer.add(ITEMS, "qty", 1, -1)  # summed: -5
        session.buffer.update(ITEM_QTY, (2, 7))
        session.buffer.update(ITEM_QTY, (2, 8))  # the last update of a key wins
        for line in ("first", "second", "third"):
            session.buffer.insert(LOG, (line,))
        session.buffer.insert(TAGS, (1, "white", 1))
        await session.flush()
        assert counting.statements == 1
        await session.flush()  # nothing pending: no statement
        assert counting.statements == 1
    rows = await conn.fetch("SELECT id, name, qty, touched FROM items ORDER BY id")
    assert [tuple(r) for r in rows] == [(1, "salt", 5, False), (2, "pepper", 8, True), (3, "oil", 1, False)]
    assert [r["line"] for r in await conn.fetch("SELECT line FROM log ORDER BY seq")] == ["first", "second", "third"]


async def test_a_query_through_the_session_sees_the_writes_before_it(conn: asyncpg.Connection) -> None:
    session = Session(conn)
    async with conn.transaction():
        session.buffer.insert(ITEMS, (1, "salt", 3))
        assert await session.fetchval("SELECT qty FROM items WHERE id = 1") == 3
        session.buffer.add(ITEMS, "qty", 1, 2)
        assert [r["qty"] for r in await session.fetch("SELECT qty FROM items")] == [5]
        session.buffer.update(TAGS, (1, "a", 1))  # no such row: an update of nothing
        assert await session.execute("DELETE FROM tags") == "DELETE 0"


async def test_composite_keys_and_a_rolled_back_flush(conn: asyncpg.Connection) -> None:
    await conn.execute("INSERT INTO tags VALUES (1, 'a', 1), (1, 'b', 1), (2, 'a', 1)")
    await conn.execute("INSERT INTO items VALUES (1, 'salt', 1)")
    session = Session(conn)
    async with conn.transaction():
        session.buffer.update(TAGS, (1, "b", 9))
        await session.flush()
    assert [tuple(r) for r in await conn.fetch("SELECT * FROM tags ORDER BY item_id, tag")] == [
        (1, "a", 1),
        (1, "b", 9),
        (2, "a", 1),
    ]
    with pytest.raises(asyncpg.CheckViolationError):
        async with conn.transaction():
            session.buffer.insert(LOG, ("never",))
            session.buffer.add(ITEMS, "qty", 1, -2)  # below zero: the whole statement fails
            await session.flush()
    assert await conn.fetchval("SELECT count(*) FROM log") == 0


def test_an_empty_buffer_has_no_statement_and_zero_increments_are_dropped() -> None:
    buffer = WriteBuffer()
    assert not buffer and buffer.statement() is None
    buffer.add(ITEMS, "qty", 1, 3)
    buffer.add(ITEMS, "qty", 1, -3)
    assert buffer.statement() is None


def test_a_table_declared_twice_is_one_table_to_the_buffer() -> None:
    # Tables are hashed once (a flush hashes each several times); equal declarations stay one table:
    # their rows go out in one INSERT, and the last update of a key wins across both.
    again = Table.of("log", ("line", "text"))
    assert again == LOG and hash(again) == hash(LOG) and again is not LOG
    assert ITEMS.only("id", "name", "qty") == ITEMS and hash(ITEMS.only("id", "name", "qty")) == hash(ITEMS)
    assert ITEMS.only("id", "qty") != ITEM_QTY  # its on_update differs
    buffer = WriteBuffer()
    buffer.insert(LOG, ("a",))
    buffer.insert(again, ("b",))
    buffer.update(ITEMS, (1, "first", 1))
    buffer.update(ITEMS.only("id", "name", "qty"), (1, "second", 2))
    statement = buffer.statement()
    assert statement is not None
    text, args = statement
    assert text.count("INSERT INTO log") == 1 and text.count("UPDATE items") == 1
    assert args == [["a", "b"], [1], ["second"], [2]]
