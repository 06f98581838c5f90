"""`Reads`, the read sides' way to the pool: a read gives its connection back without asyncpg's reset
query (one round trip, not two), except a read that failed; `snapshot` reads as of one snapshot.

Each test leaves a session setting on the pool's only connection on purpose, a setting the reset query
(`RESET ALL`) would undo: whether it is still there says whether a release reset the connection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from brigade_common.db import Reads, create_pool, session_unchanged


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, "public", max_size=1)
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS notes (id int PRIMARY KEY, text text NOT NULL)")
        await conn.execute("SET statement_timeout = '7s'")
        session_unchanged(conn)
    yield pool
    await pool.close()


async def test_each_kind_of_read_gives_its_connection_back_without_the_reset_query(
    one_connection: asyncpg.Pool,
) -> None:
    reads = Reads(one_connection)
    assert await reads.fetchval("SHOW statement_timeout") == "7s"
    assert (await reads.fetchrow("SHOW statement_timeout"))[0] == "7s"  # type: ignore[index]
    assert [r[0] for r in await reads.fetch("SHOW statement_timeout")] == ["7s"]
    async with reads.snapshot() as conn:
        assert await conn.fetchval("SHOW statement_timeout") == "7s"
    assert await one_connection.fetchval("SHOW statement_timeout") == "7s"  # none of them reset it...
    assert await one_connection.fetchval("SHOW statement_timeout") == "0"  # ...as pool.fetchval's release does


async def test_a_read_that_fails_gives_its_connection_back_reset(one_connection: asyncpg.Pool) -> None:
    reads = Reads(one_connection)
    with pytest.raises(asyncpg.UndefinedTableError):
        await reads.fetch("SELECT * FROM no_such_table")
    assert await reads.fetchval("SHOW statement_timeout") == "0"


async def test_a_snapshot_reads_as_of_one_moment_and_writes_nothing(
    one_connection: asyncpg.Pool, database_url: str
) -> None:
    reads = Reads(one_connection)
    other = await asyncpg.connect(database_url)
    try:
        async with reads.snapshot() as conn:
            assert await conn.fetchval("SELECT count(*) FROM notes") == 0
            await other.execute("INSERT INTO notes VALUES (1, 'committed meanwhile')")
            assert await conn.fetchval("SELECT count(*) FROM notes") == 0  # the same snapshot
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await conn.execute("INSERT INTO notes VALUES (2, 'refused')")
        assert await reads.fetchval("SELECT count(*) FROM notes") == 1
    finally:
        await other.close()
