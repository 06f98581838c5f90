"""The transaction under every unit of work, against real PostgreSQL: all or nothing, outbox rows
in order with their context, the inbox, and the relay woken only by a commit that sent something."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
import pytest
from pydantic import BaseModel

from brigade_common.db import create_pool
from brigade_common.envelope import Envelope
from brigade_common.messaging import AlreadyProcessed, InboxEntry, MessageContext, Outgoing
from brigade_common.outbox import outbox_row
from brigade_common.unit_of_work import Transaction, message_row
from brigade_common.writes import Table

NOTES = Table.of("notes", ("text", "text"))
CTX = MessageContext("corr-1", "cause-1")


class Note(BaseModel):
    text: str


async def outbox(pool: asyncpg.Pool) -> list[tuple[str, dict[str, str], Envelope]]:
    rows = await pool.fetch("SELECT subject, headers::text AS headers, payload FROM outbox ORDER BY seq")
    return [(r["subject"], json.loads(r["headers"]), Envelope.from_bytes(r["payload"])) for r in rows]


async def test_a_commit_writes_everything_and_sends_the_messages_in_order(pool: asyncpg.Pool) -> None:
    woken: list[bool] = []
    async with Transaction(pool, context=CTX, on_commit=lambda rows: woken.append(bool(rows))) as tx:
        tx.session.buffer.insert(NOTES, ("hola",))
        await tx.commit(
            [
                Outgoing("test.note.added.v1", Note(text="hola")),
                Outgoing("test.note.due.v1", Note(text="later"), subject="test.schedule.1", headers={"X-At": "1"}),
            ]
        )
    assert await pool.fetchval("SELECT text FROM notes") == "hola"
    [(s1, h1, e1), (s2, h2, e2)] = await outbox(pool)
    assert (s1, e1.type, e1.data) == ("test.note.added.v1", "test.note.added.v1", {"text": "hola"})
    assert (s2, e2.type, h2["X-At"]) == ("test.schedule.1", "test.note.due.v1", "1")
    for headers, env in ((h1, e1), (h2, e2)):
        assert (env.correlation_id, env.causation_id) == ("corr-1", "cause-1")
        assert headers["Nats-Msg-Id"] == env.id and headers["Correlation-Id"] == "corr-1"
    assert woken == [True]


async def test_leaving_without_a_commit_undoes_everything(pool: asyncpg.Pool) -> None:
    woken: list[bool] = []
    with pytest.raises(RuntimeError):
        async with Transaction(pool, context=CTX, on_commit=lambda rows: woken.append(bool(rows))) as tx:
            await tx.session.execute("INSERT INTO notes (text) VALUES ('written')")
            tx.session.buffer.insert(NOTES, ("buffered",))
            raise RuntimeError("the use case failed")
    async with Transaction(pool, context=CTX, on_commit=lambda rows: woken.append(bool(rows))) as again:
        await again.session.execute("INSERT INTO notes (text) VALUES ('no commit either')")
    assert await pool.fetchval("SELECT count(*) FROM notes") == 0
    assert await outbox(pool) == []
    assert woken == []
    assert pool.get_idle_size() == pool.get_size()  # every connection went back


async def test_a_commit_that_sends_nothing_does_not_wake_the_relay(pool: asyncpg.Pool) -> None:
    woken: list[bool] = []
    async with Transaction(pool, context=CTX, on_commit=lambda rows: woken.append(bool(rows))) as tx:
        tx.session.buffer.insert(NOTES, ("quiet",))
        await tx.commit()
    assert woken == [] and await pool.fetchval("SELECT count(*) FROM notes") == 1


async def test_the_inbox_makes_a_message_count_once(pool: asyncpg.Pool) -> None:
    entry = InboxEntry("notes", "msg-1")
    async with Transaction(pool, context=CTX, inbox=entry) as tx:
        await tx.commit()
    with pytest.raises(AlreadyProcessed):
        async with Transaction(pool, context=CTX, inbox=entry) as tx:
            pytest.fail("a processed message must not be handled again")
    # Long work marks the message in its last transaction; marking it again changes nothing.
    later = InboxEntry("notes", "msg-2")
    for _ in range(2):
        async with Transaction(pool, context=CTX) as tx:
            tx.mark_processed(later)
            await tx.commit()
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 2


async def test_messages_handled_together_are_claimed_each_once(pool: asyncpg.Pool) -> None:
    """`claim_all`: False for a message processed before and for a second copy in the same call; the
    claims are undone with the transaction when it does not commit."""
    async with Transaction(pool, context=CTX, inbox=InboxEntry("notes", "before")) as tx:
        await tx.commit()
    entries = [InboxEntry("notes", m) for m in ("a", "before", "b", "a")] + [InboxEntry("other", "a")]
    with pytest.raises(RuntimeError):
        async with Transaction(pool, context=CTX) as tx:
            assert await tx.claim_all(entries) == [True, False, True, False, True]
            raise RuntimeError("the use case failed")
    async with Transaction(pool, context=CTX) as tx:
        assert await tx.claim_all(entries) == [True, False, True, False, True]
        await tx.commit()
    rows = await pool.fetch("SELECT consumer, message_id FROM inbox ORDER BY consumer, message_id")
    assert [(r["consumer"], r["message_id"]) for r in rows] == [
        ("notes", "a"),
        ("notes", "b"),
        ("notes", "before"),
        ("other", "a"),
    ]


def test_a_message_row_is_the_envelope_outbox_row_makes() -> None:
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    message = Outgoing("test.note.due.v1", Note(text="x"), subject="test.s.1", headers={"X-At": "1"}, occurred_at=at)
    msg_id, subject, headers, payload = message_row(message, CTX)
    envelope = Envelope.from_bytes(payload)
    expected = message.envelope(CTX)
    assert envelope == expected.model_copy(update={"id": msg_id})
    _, want_subject, want_headers, _ = outbox_row(expected, message.subject, message.headers)
    assert (subject, json.loads(headers)) == (want_subject, {**json.loads(want_headers), "Nats-Msg-Id": msg_id})


async def test_a_pooled_connection_comes_back_reset_unless_only_a_transaction_ran_on_it(database_url: str) -> None:
    pool = await create_pool(database_url, "public", max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET statement_timeout = '7s'")
        async with Transaction(pool, context=CTX) as tx:  # the same connection: reset when it came back
            assert await tx.session.fetchval("SHOW statement_timeout") == "0"
            await tx.session.execute("SET LOCAL statement_timeout = '5s'")
            await tx.commit()
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW statement_timeout") == "0"
    finally:
        await pool.close()
