"""The outbox relay's two paths against real PostgreSQL and nats-server: rows handed over at commit are
published from memory at once, anything else by the sweep, and relays side by side publish each row once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from pydantic import BaseModel

from brigade_common import outbox
from brigade_common.envelope import Envelope
from brigade_common.jetstream import ensure_stream, stream_config
from brigade_common.messaging import MessageContext, Outgoing
from brigade_common.outbox import OutboxRelay, OutboxRow
from brigade_common.testing.waiting import eventually
from brigade_common.unit_of_work import OnCommit, Transaction

CTX = MessageContext(correlation_id="relay-test")
SUBJECT = "test.note.added.v1"
NEVER = 3600.0  # a sweep interval no test waits for


class Note(BaseModel):
    text: str


@pytest.fixture
async def stream(nc: NATS) -> None:
    await ensure_stream(nc.jetstream(), stream_config("TEST", ["test.>"]))


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[OutboxRelay]:
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def note(pool: asyncpg.Pool, text: str, on_commit: OnCommit) -> None:
    """One transaction that sends one message, handing its rows to `on_commit`."""
    async with Transaction(pool, context=CTX, on_commit=on_commit) as tx:
        await tx.commit([Outgoing(SUBJECT, Note(text=text))])


async def stored(nc: NATS) -> int:
    return (await nc.jetstream().stream_info("TEST")).state.messages


async def texts(nc: NATS, n: int) -> list[str]:
    js = nc.jetstream()
    out = []
    for seq in range(1, n + 1):
        msg = await js.get_msg("TEST", seq)
        out.append(Envelope.from_bytes(msg.data or b"").data["text"])
    return out


async def test_rows_handed_over_at_commit_are_published_without_a_sweep(
    pool: asyncpg.Pool, nc: NATS, stream: None
) -> None:
    relay = OutboxRelay(pool, nc.jetstream(), service="test", sweep_interval_s=NEVER)
    async with running(relay):
        for i in range(50):
            await note(pool, f"n{i}", relay.committed)
        await eventually(lambda: _equals(stored(nc), 50), 10, "every handed-over row in the stream")
        await eventually(lambda: _equals(outbox.pending_count(pool), 0), 10, "the published rows deleted")
    assert await texts(nc, 50) == [f"n{i}" for i in range(50)]  # in commit order


async def test_rows_acknowledged_close_together_are_deleted_in_one_statement(
    pool: asyncpg.Pool, nc: NATS, stream: None
) -> None:
    # Each row is published and acknowledged before the next commits, as under a steady load: the
    # first is deleted at once, the next twenty wait out the interval and go in one DELETE.
    relay = OutboxRelay(pool, nc.jetstream(), service="test", sweep_interval_s=NEVER, delete_interval_s=1.5)
    async with running(relay):
        await note(pool, "n0", relay.committed)
        await eventually(lambda: _equals(outbox.pending_count(pool), 0), 10, "the first row deleted at once")
        for i in range(1, 21):
            await note(pool, f"n{i}", relay.committed)
            await eventually(lambda: _equals(stored(nc), i + 1), 10, "the row published")  # noqa: B023
        await eventually(lambda: _equals(outbox.pending_count(pool), 0), 10, "the twenty deleted")
    assert relay.deletes == 2


async def test_a_row_nobody_handed_over_waits_for_the_sweeps_grace_unless_notified(
    pool: asyncpg.Pool, nc: NATS, stream: None
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await outbox.enqueue(conn, Envelope.wrap(SUBJECT, {"text": "left by a crash"}))
    relay = OutboxRelay(pool, nc.jetstream(), service="test", sweep_interval_s=0.05, sweep_grace_s=NEVER)
    async with running(relay):
        # Sweeps run, but the row is younger than the grace: it may be another replica's, in flight.
        await eventually(lambda: relay.sweeps >= 3, 10, "a few sweeps")
        assert await stored(nc) == 0
        relay.notify()  # a writer that did not hand its rows over: sweep now, whatever their age
        await eventually(lambda: _equals(stored(nc), 1), 10, "the row published by the sweep")
        await eventually(lambda: _equals(outbox.pending_count(pool), 0), 10, "and deleted")


async def test_relays_side_by_side_publish_every_row_once(pool: asyncpg.Pool, nc: NATS, stream: None) -> None:
    # Two replicas' relays on one table, each handed its own commits, each sweeping everything with no
    # grace, as often as it can: whichever path gets a row, the stream holds it once.
    relays = [
        OutboxRelay(pool, nc.jetstream(), service="test", sweep_interval_s=0.001, sweep_grace_s=0.0, batch_size=16)
        for _ in range(2)
    ]
    async with running(relays[0]), running(relays[1]):
        await asyncio.gather(
            *(note(pool, f"n{i}", relays[i % 2].committed) for i in range(300)),
        )
        await eventually(lambda: _equals(outbox.pending_count(pool), 0), 20, "every row published and deleted")
        await eventually(lambda: _equals(stored(nc), 300), 10, "300 messages")
    assert sorted(await texts(nc, 300)) == sorted(f"n{i}" for i in range(300))


async def test_rows_whose_publish_fails_are_left_for_the_sweep(pool: asyncpg.Pool, nc: NATS, stream: None) -> None:
    handed: list[Sequence[OutboxRow]] = []
    relay = OutboxRelay(pool, nc.jetstream(), service="test", sweep_interval_s=0.05, sweep_grace_s=0.2)
    # A subject no stream takes: JetStream answers no ack, the hot publish fails, the row stays.
    async with Transaction(pool, context=CTX, on_commit=handed.append) as tx:
        await tx.commit([Outgoing(SUBJECT, Note(text="lost?"), subject="nowhere.at.all")])
    async with running(relay):
        relay.committed(handed[0])
        await eventually(lambda: relay.failed_publishes >= 1, 10, "the publish failed")
        assert await outbox.pending_count(pool) == 1  # not deleted: the sweep will try again
        async with pool.acquire() as conn:  # the operator adds the stream the subject belongs to
            await conn.execute("UPDATE outbox SET subject = $1", SUBJECT)
        await eventually(lambda: _equals(stored(nc), 1), 10, "published by the sweep")
        await eventually(lambda: _equals(outbox.pending_count(pool), 0), 10, "and deleted")


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected
