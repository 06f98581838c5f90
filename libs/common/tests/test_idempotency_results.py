"""Idempotency keys whose work outlives a transaction, against real PostgreSQL: the first request's
result replayed, a second request while the first runs refused, a key given up for a retry, and the
kitchen's `claim_key` unchanged on the same table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from brigade_common.db import create_pool
from brigade_common.idempotency import (
    IDEMPOTENCY_DDL,
    IDEMPOTENCY_RESULTS_DDL,
    IdempotencyKey,
    IdempotencyKeyReused,
    Replay,
    RequestInProgress,
    begin_key,
    claim_key,
    complete_key,
    fingerprint,
    purge_expired,
    release_key,
)
from brigade_common.testing.waiting import eventually

PATH = "/api/payments"
BODY = {"order_id": "o1", "token": "tok_visa"}


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    admin = await asyncpg.connect(database_url)
    await admin.execute("CREATE SCHEMA payments")
    await admin.close()
    pool = await create_pool(database_url, "payments", max_size=4)
    async with pool.acquire() as conn:
        await conn.execute(IDEMPOTENCY_DDL + IDEMPOTENCY_RESULTS_DDL)
    yield pool
    await pool.close()


def key(name: str = "k1", body: dict[str, str] = BODY) -> IdempotencyKey:
    return IdempotencyKey("alice", name, "POST", PATH, fingerprint("POST", PATH, body))


async def begin(db: asyncpg.Pool, k: IdempotencyKey, resource_id: str) -> Replay | None:
    async with db.acquire() as conn, conn.transaction():
        return await begin_key(conn, k, resource_id=resource_id)


async def test_the_first_result_is_replayed_once_the_request_completed(db: asyncpg.Pool) -> None:
    assert await begin(db, key(), "p1") is None
    async with db.acquire() as conn:
        await complete_key(conn, "p1", {"status": "succeeded", "amount_cents": 900})
    assert await begin(db, key(), "p2") == Replay("p1", {"status": "succeeded", "amount_cents": 900})
    with pytest.raises(IdempotencyKeyReused):
        await begin(db, key(body={"order_id": "o2", "token": "tok_visa"}), "p3")


async def test_a_key_whose_request_still_runs_is_refused_until_it_completes(db: asyncpg.Pool) -> None:
    assert await begin(db, key(), "p1") is None
    with pytest.raises(RequestInProgress):
        await begin(db, key(), "p2")
    async with db.acquire() as conn:
        await complete_key(conn, "p1", {"status": "failed"})
    assert await begin(db, key(), "p2") == Replay("p1", {"status": "failed"})


async def test_a_released_key_runs_anew_but_a_completed_one_cannot_be_released(db: asyncpg.Pool) -> None:
    assert await begin(db, key(), "p1") is None
    async with db.acquire() as conn:
        await release_key(conn, "p1")
    assert await begin(db, key(), "p2") is None  # the retry is a new request
    async with db.acquire() as conn:
        await complete_key(conn, "p2", {"status": "succeeded"})
        await release_key(conn, "p2")
    assert await begin(db, key(), "p3") == Replay("p2", {"status": "succeeded"})


async def test_a_second_request_waits_for_the_first_transaction_not_the_whole_work(db: asyncpg.Pool) -> None:
    """Two requests at once: the second waits on the key while the first's transaction is open,
    then learns the first is still running (it committed its claim, not its result)."""
    first = await db.acquire()
    tx = first.transaction()
    await tx.start()
    assert await begin_key(first, key(), resource_id="p1") is None
    second = asyncio.create_task(begin(db, key(), "p2"))

    async def waiting() -> bool:
        n = await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        return int(n) == 1

    await eventually(waiting, 10, "the second request waiting on the key")
    await tx.commit()
    await db.release(first)
    with pytest.raises(RequestInProgress):
        await second


async def test_an_expired_key_counts_as_new_and_is_purged(db: asyncpg.Pool) -> None:
    assert await begin(db, key(), "p1") is None
    async with db.acquire() as conn:
        await complete_key(conn, "p1", {"status": "succeeded"})
        await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    assert await begin(db, key(), "p2") is None  # a new request: no result yet
    with pytest.raises(RequestInProgress):
        await begin(db, key(), "p3")
    async with db.acquire() as conn:
        await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        assert await purge_expired(conn) == 1


async def test_claim_key_works_unchanged_on_a_table_with_results(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn, conn.transaction():
        assert await claim_key(conn, key("order"), resource_id="o1") is None
    async with db.acquire() as conn, conn.transaction():
        assert await claim_key(conn, key("order"), resource_id="o2") == "o1"
