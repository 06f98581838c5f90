"""Outbox, relay, idempotent consumer and dead letters against real PostgreSQL and nats-server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from brigade_common import outbox
from brigade_common.consumer import ConsumerRunner, ConsumerSpec, Delivery, Poison
from brigade_common.dlq import read_dead_letters
from brigade_common.envelope import Envelope
from brigade_common.jetstream import ensure_stream, stream_config
from brigade_common.messaging import MessageContext
from brigade_common.outbox import OutboxRelay
from brigade_common.testing.waiting import eventually
from brigade_common.unit_of_work import Transaction
from brigade_common.writes import Session


async def provision(nc: NATS) -> None:
    js = nc.jetstream()
    await ensure_stream(js, stream_config("TEST", ["test.>"]))
    await ensure_stream(js, stream_config("DLQ", ["dlq.>"]))


async def count_notes(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM notes"))


async def test_outbox_rows_reach_the_stream_once_and_leave_the_table(pool: asyncpg.Pool, nc: NATS) -> None:
    await provision(nc)
    js = nc.jetstream()
    env = Envelope.wrap("test.note.added.v1", {"text": "hola"})
    async with pool.acquire() as conn, conn.transaction():
        await outbox.enqueue(conn, env)
    relay = OutboxRelay(pool, js, service="test")
    assert await relay.publish_batch() == 1
    assert await outbox.pending_count(pool) == 0
    # A crash after publishing but before the delete republishes the row: the broker drops it.
    async with pool.acquire() as conn, conn.transaction():
        await outbox.enqueue(conn, env.model_copy())
    assert await relay.publish_batch() == 1
    info = await js.stream_info("TEST")
    assert info.state.messages == 1
    msg = await js.get_last_msg("TEST", "test.note.added.v1")
    assert Envelope.from_bytes(msg.data or b"").id == env.id


async def test_an_outbox_row_written_in_a_rolled_back_transaction_is_never_published(
    pool: asyncpg.Pool, nc: NATS
) -> None:
    await provision(nc)
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await outbox.enqueue(conn, Envelope.wrap("test.note.added.v1", {"text": "x"}))
            raise RuntimeError("the write failed")
    assert await OutboxRelay(pool, nc.jetstream(), service="test").publish_batch() == 0


NoteHandler = Callable[[Envelope, Session], Awaitable[None]]


async def _run_consumer(
    pool: asyncpg.Pool, nc: NATS, handler: NoteHandler, **kw: object
) -> tuple[ConsumerRunner, asyncio.Task[None]]:
    """A consumer whose handler runs in a transaction that claims the message in the inbox."""

    async def in_transaction(env: Envelope, delivery: Delivery) -> None:
        async with Transaction(pool, context=MessageContext.caused_by(env), inbox=delivery.inbox) as tx:
            await handler(env, tx.session)
            await tx.commit()

    spec = ConsumerSpec("notes", "TEST", ("test.>",), context="test", handler=in_transaction, backoff_s=(0.05,), **kw)  # type: ignore[arg-type]
    runner = ConsumerRunner(spec, pool=pool, nc=nc, js=nc.jetstream(), service="test")
    await runner.provision()
    return runner, asyncio.create_task(runner.run())


class NoteRefused(Exception):
    """A service's own error that no retry can cure (declared in the spec's `poison`)."""


async def add_note(env: Envelope, db: Session) -> None:
    if env.data.get("poison"):
        raise Poison("this note can never be stored")
    if env.data.get("refused"):
        raise NoteRefused("notes may not be refused twice")
    await db.execute("INSERT INTO notes (text) VALUES ($1)", env.data["text"])


async def test_duplicates_have_no_second_effect_and_poison_goes_to_the_dlq(pool: asyncpg.Pool, nc: NATS) -> None:
    await provision(nc)
    js = nc.jetstream()
    _, task = await _run_consumer(pool, nc, add_note, poison=(NoteRefused,))
    try:
        env = Envelope.wrap("test.note.added.v1", {"text": "one"})
        await js.publish(env.type, env.to_bytes(), headers=env.headers())
        await js.publish(env.type, env.to_bytes(), headers=env.headers())  # same Nats-Msg-Id
        await js.publish(env.type, env.to_bytes(), headers={"Nats-Msg-Id": "resent"})  # re-sent envelope
        await js.publish("test.garbage", b"not json at all")
        poison = Envelope.wrap("test.note.added.v1", {"text": "p", "poison": True})
        await js.publish(poison.type, poison.to_bytes(), headers=poison.headers())
        refused = Envelope.wrap("test.note.added.v1", {"text": "r", "refused": True})
        await js.publish(refused.type, refused.to_bytes(), headers=refused.headers())
        after = Envelope.wrap("test.note.added.v1", {"text": "two"})
        await js.publish(after.type, after.to_bytes(), headers=after.headers())

        async def two_notes_and_three_dead_letters() -> bool:
            return await count_notes(pool) == 2 and len(await read_dead_letters(js)) == 3

        await eventually(two_notes_and_three_dead_letters)
        letters = await read_dead_letters(js, "dlq.test.notes")
        assert {d.original_subject for d in letters} == {"test.garbage", "test.note.added.v1"}
        assert any("invalid envelope" in d.error for d in letters)
        assert any("can never be stored" in d.error for d in letters)
        assert any("NoteRefused" in d.error for d in letters)
        # One delivery each: neither was retried.
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 2
        assert sorted(r["text"] for r in await pool.fetch("SELECT text FROM notes")) == ["one", "two"]
    finally:
        task.cancel()


async def test_transient_failures_are_retried_then_dead_lettered_when_they_never_stop(
    pool: asyncpg.Pool, nc: NATS
) -> None:
    await provision(nc)
    js = nc.jetstream()
    attempts: dict[str, int] = {}

    async def flaky(env: Envelope, db: Session) -> None:
        attempts[env.data["text"]] = attempts.get(env.data["text"], 0) + 1
        if env.data["text"] == "never" or attempts[env.data["text"]] < 3:
            raise ConnectionError("the database blinked")
        await db.execute("INSERT INTO notes (text) VALUES ($1)", env.data["text"])

    _, task = await _run_consumer(pool, nc, flaky, max_deliver=4)
    try:
        for text in ("third-time-lucky", "never"):
            env = Envelope.wrap("test.note.added.v1", {"text": text})
            await js.publish(env.type, env.to_bytes(), headers=env.headers())

        async def settled() -> bool:
            return await count_notes(pool) == 1 and len(await read_dead_letters(js)) == 1

        await eventually(settled)
        assert attempts == {"third-time-lucky": 3, "never": 4}
        [letter] = await read_dead_letters(js)
        assert "gave up after 4 deliveries" in letter.error
    finally:
        task.cancel()


async def test_a_busy_consumer_takes_no_more_messages_than_it_has_slots_for(pool: asyncpg.Pool, nc: NATS) -> None:
    # Replicas share a durable consumer: what one process fetched but cannot start yet would wait there,
    # its ack timer running, while another replica sat idle.
    await provision(nc)
    js = nc.jetstream()
    release = asyncio.Event()

    async def slow_note(env: Envelope, db: Session) -> None:
        await release.wait()
        await add_note(env, db)

    _, busy = await _run_consumer(pool, nc, slow_note, concurrency=2)
    try:
        for i in range(10):
            env = Envelope.wrap("test.note.added.v1", {"text": f"n{i}"})
            await js.publish(env.type, env.to_bytes(), headers=env.headers())

        async def two_taken() -> bool:
            info = await js.consumer_info("TEST", "notes")
            return info.num_ack_pending == 2 and info.num_pending == 8

        await eventually(two_taken, 10, "two messages taken, eight left in the stream")
        _, idle = await _run_consumer(pool, nc, add_note)  # a second replica takes the rest at once
        try:
            await eventually(lambda: _notes_are(pool, 8), 10, "the eight stored by the other replica")
            release.set()
            await eventually(lambda: _notes_are(pool, 10), 10, "all ten stored")
        finally:
            idle.cancel()
    finally:
        busy.cancel()


async def _notes_are(pool: asyncpg.Pool, n: int) -> bool:
    return await count_notes(pool) == n


async def test_a_long_running_consumer_asks_the_inbox_once_for_a_fetch_and_skips_what_it_holds(
    pool: asyncpg.Pool, nc: NATS
) -> None:
    # A long-running handler (the warehouse's supply commands) must not run again for a message whose
    # work is done. The inbox is asked for a whole fetch at once, so the fetch's fresh messages reach
    # the handler in the same turn of the event loop: handlers that group their work take them together.
    await provision(nc)
    js = nc.jetstream()
    done = Envelope.wrap("test.note.added.v1", {"text": "done before"})
    fresh = [Envelope.wrap("test.note.added.v1", {"text": f"fresh {i}"}) for i in range(3)]
    await pool.execute("INSERT INTO inbox (consumer, message_id) VALUES ('notes', $1)", done.id)
    for env in (fresh[0], done, *fresh[1:]):
        await js.publish(env.type, env.to_bytes(), headers=env.headers())
    started: list[str] = []
    at_the_next_turn: list[int] = []

    async def counted(env: Envelope, delivery: Delivery) -> None:
        if not started:  # what had started by the time the loop came round once more
            asyncio.get_running_loop().call_soon(lambda: at_the_next_turn.append(len(started)))
        started.append(env.data["text"])
        async with Transaction(pool, context=MessageContext.caused_by(env), inbox=delivery.inbox) as tx:
            await add_note(env, tx.session)
            await tx.commit()

    spec = ConsumerSpec("notes", "TEST", ("test.>",), context="test", handler=counted, long_running=True)
    runner = ConsumerRunner(spec, pool=pool, nc=nc, js=nc.jetstream(), service="test")
    await runner.provision()
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: _notes_are(pool, 3), 10, "the three fresh notes stored")

        async def all_acknowledged() -> bool:
            info = await js.consumer_info("TEST", "notes")
            return info.num_ack_pending == 0 and info.num_pending == 0

        await eventually(all_acknowledged, 10, "the four messages acknowledged, the done one too")
        assert sorted(started) == ["fresh 0", "fresh 1", "fresh 2"]  # never the one the inbox held
        assert at_the_next_turn == [3]
        assert "done before" not in {r["text"] for r in await pool.fetch("SELECT text FROM notes")}
    finally:
        task.cancel()
