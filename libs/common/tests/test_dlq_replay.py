"""Replaying the DLQ against real PostgreSQL and nats-server: a poison message, once its handler is
fixed, has its effect exactly once; a message that had its effect already has no second one."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from structlog.testing import capture_logs

from brigade_common.consumer import ConsumerRunner, ConsumerSpec, Delivery, Poison
from brigade_common.dlq import DeadLetter, cli, dead_letter, read_dead_letters
from brigade_common.dlq.replay import Outcome, replay
from brigade_common.envelope import Envelope
from brigade_common.jetstream import ensure_stream, stream_config
from brigade_common.messaging import MessageContext
from brigade_common.testing.waiting import eventually
from brigade_common.unit_of_work import Transaction
from brigade_contracts.streams import DLQ

SUBJECT = "test.note.added.v1"


async def provision(js: JetStreamContext) -> None:
    await ensure_stream(js, stream_config("TEST", ["test.>"]))
    # The real DLQ stream: dead letters and the server's max-deliveries advisories.
    await ensure_stream(js, stream_config(DLQ.name, DLQ.subjects, max_age_s=DLQ.max_age_s))


class Notes:
    """A consumer whose handler refuses every note (`Poison`) until `fixed`, as a bug does until its
    fix ships. `deliveries` lists the envelope id of every message the consumer was handed."""

    def __init__(self, pool: asyncpg.Pool, nc: NATS, *, max_deliver: int = 8) -> None:
        self.pool = pool
        self.fixed = False
        self.deliveries: list[str] = []
        spec = ConsumerSpec(
            "notes",
            "TEST",
            ("test.>",),
            context="test",
            handler=self.handle,
            max_deliver=max_deliver,
            backoff_s=(0.05,),
        )
        self.runner = ConsumerRunner(spec, pool=pool, nc=nc, js=nc.jetstream(), service="test")
        self.task: asyncio.Task[None] | None = None

    async def handle(self, env: Envelope, delivery: Delivery) -> None:
        self.deliveries.append(env.id)
        async with Transaction(self.pool, context=MessageContext.caused_by(env), inbox=delivery.inbox) as tx:
            if not self.fixed:
                raise Poison("no note may be stored yet")
            await tx.session.execute("INSERT INTO notes (text) VALUES ($1)", env.data["text"])
            await tx.commit()

    async def start(self) -> Notes:
        await self.runner.provision()
        self.task = asyncio.create_task(self.runner.run())
        return self

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()


@pytest.fixture
async def js(nc: NATS) -> JetStreamContext:
    context = nc.jetstream()
    await provision(context)
    return context


@pytest.fixture
async def notes(pool: asyncpg.Pool, nc: NATS, js: JetStreamContext) -> AsyncIterator[Notes]:
    running = await Notes(pool, nc).start()
    yield running
    running.stop()


async def publish_note(js: JetStreamContext, text: str) -> tuple[Envelope, int]:
    env = Envelope.wrap(SUBJECT, {"text": text})
    ack = await js.publish(SUBJECT, env.to_bytes(), headers=env.headers())
    return env, ack.seq


async def settled(js: JetStreamContext) -> bool:
    """The consumer has settled every message of the stream (acked, or terminated after dead-lettering)."""
    info = await js.consumer_info("TEST", "notes")
    last = (await js.stream_info("TEST")).state.last_seq
    return info.delivered.stream_seq == last and not info.num_ack_pending


async def notes_and_inbox(pool: asyncpg.Pool) -> tuple[list[str], int]:
    texts = [r["text"] for r in await pool.fetch("SELECT text FROM notes ORDER BY id")]
    return texts, int(await pool.fetchval("SELECT count(*) FROM inbox"))


async def assert_one_effect(js: JetStreamContext, pool: asyncpg.Pool, notes: Notes, env: Envelope) -> None:
    """Once the consumer settled everything: it was handed the original and one replay, wrote one
    note and one inbox row, and the DLQ is empty."""
    await eventually(lambda: settled(js), what="the replay settled")
    assert notes.deliveries == [env.id, env.id]
    assert await notes_and_inbox(pool) == ([env.data["text"]], 1)
    assert await read_dead_letters(js, ">") == []


async def dlq(nats_url: str, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await cli.run(["--nats-url", nats_url, *argv], out, err)
    return code, out.getvalue(), err.getvalue()


async def test_a_poison_message_fixed_by_a_code_change_replays_to_success_exactly_once(
    pool: asyncpg.Pool, js: JetStreamContext, notes: Notes, nats_url: str
) -> None:
    env, _ = await publish_note(js, "hola")
    [letter] = await eventually(lambda: read_dead_letters(js), what="the note dead-lettered")
    assert letter.envelope == env
    assert "no note may be stored yet" in letter.error
    assert await notes_and_inbox(pool) == ([], 0)

    notes.fixed = True  # the fix ships
    # Seconds after the original was published, inside the duplicate window of its Nats-Msg-Id.
    with capture_logs() as logs:
        code, out, _ = await dlq(nats_url, "replay", str(letter.seq))
    assert code == cli.EXIT_OK, out
    line = ["replayed", str(letter.seq), "notes", SUBJECT, "envelope", env.id, "→", "TEST", "seq", "2"]
    assert out.splitlines()[0].split() == line

    await assert_one_effect(js, pool, notes, env)
    [replayed] = [e for e in logs if e["event"] == "dlq_replayed"]
    assert replayed | {"consumer": "notes", "original_subject": SUBJECT, "envelope_id": env.id} == replayed
    assert replayed["dlq_seq"] == letter.seq


async def test_replaying_a_message_already_processed_changes_nothing(
    pool: asyncpg.Pool, js: JetStreamContext, notes: Notes, nats_url: str
) -> None:
    notes.fixed = True
    env, _ = await publish_note(js, "once")
    await eventually(lambda: settled(js), what="the note stored")
    # A message that had its effect can still reach the DLQ (its ack was lost until max_deliver ran
    # out, or it was replayed by hand already): put one there the way the runner does.
    peek = await js.pull_subscribe(SUBJECT, durable="peek", stream="TEST")
    [msg] = await peek.fetch(1)
    await dead_letter(js, msg, context="test", consumer="notes", error="gave up after 8 deliveries: TimeoutError()")

    code, out, _ = await dlq(nats_url, "replay", "--consumer", "notes")
    assert code == cli.EXIT_OK, out
    await assert_one_effect(js, pool, notes, env)  # delivered again, and dropped by the inbox


async def test_one_entry_replayed_twice_at_once_is_delivered_once(
    pool: asyncpg.Pool, js: JetStreamContext, notes: Notes, nats_url: str
) -> None:
    env, _ = await publish_note(js, "twice?")
    [letter] = await eventually(lambda: read_dead_letters(js), what="the note dead-lettered")
    notes.fixed = True
    # Two operators, or a replay retried after a crash before it removed the entry.
    first, second = await asyncio.gather(replay(js, letter), replay(js, letter))
    assert sorted([first.outcome, second.outcome]) == sorted([Outcome.REPLAYED, Outcome.DUPLICATE])
    assert first.stream_seq == second.stream_seq == 2  # the stream stored it once
    assert (await js.stream_info("TEST")).state.messages == 2

    await assert_one_effect(js, pool, notes, env)
    code, _, err = await dlq(nats_url, "replay", str(letter.seq))
    assert code == cli.EXIT_NOT_FOUND
    assert f"no entry {letter.seq} in the DLQ" in err


async def test_an_advisory_is_replayed_from_its_stream_and_stays_when_its_stream_no_longer_has_it(
    pool: asyncpg.Pool, nc: NATS, js: JetStreamContext, nats_url: str
) -> None:
    notes = Notes(pool, nc, max_deliver=2)
    await notes.runner.provision()
    kept, kept_seq = await publish_note(js, "kept")
    _, lost_seq = await publish_note(js, "lost")
    # A worker that dies before settling anything: no dead letter, the server gives up after max_deliver.
    # A fetch returns as soon as one message is there: fetch until each was delivered its two times.
    dying = await js.pull_subscribe_bind("notes", stream="TEST")
    delivered: Counter[int] = Counter()
    while min(delivered[kept_seq], delivered[lost_seq]) < 2:
        for msg in await dying.fetch(2, timeout=5):
            delivered[msg.metadata.sequence.stream] += 1
            await msg.nak()
    await dying.unsubscribe()
    notes.fixed = True
    await notes.start()  # its fetches find both messages exhausted: the server publishes the advisories
    try:

        async def two_advisories() -> list[DeadLetter] | None:
            letters = await read_dead_letters(js, ">")
            return letters if len(letters) == 2 else None

        by_original = {a.original_seq: a for a in await eventually(two_advisories, what="two advisories")}
        advisory, gone = by_original[kept_seq], by_original[lost_seq]
        assert (advisory.advisory, advisory.consumer, advisory.original_stream) == (True, "notes", "TEST")
        await js.delete_msg("TEST", lost_seq)  # as the stream's max age would, long before the DLQ's
        _, out, _ = await dlq(nats_url, "list")
        assert (
            "  2  server advisory: 2 deliveries, never settled  [advisory: no payload, replayed from its stream]" in out
        )
        _, out, _ = await dlq(nats_url, "show", str(advisory.seq))
        assert f"original  stream TEST seq {kept_seq}: still there, on {SUBJECT}" in out
        assert '"text": "kept"' in out
        _, out, _ = await dlq(nats_url, "show", str(gone.seq))
        assert f"original  stream TEST seq {lost_seq}: no longer in its stream, so it cannot be replayed" in out

        code, out, _ = await dlq(nats_url, "replay", "--consumer", "notes")
        assert code == cli.EXIT_INCOMPLETE
        first, second, *summary = out.splitlines()
        assert first.split()[:6] == ["replayed", str(advisory.seq), "notes", SUBJECT, "envelope", kept.id]
        assert second.split()[:2] == ["gone", str(gone.seq)]
        assert f"stream TEST no longer holds seq {lost_seq}: nothing to send; left in the DLQ" in second
        assert summary[0] == "1 replayed, 0 replayed already, 1 left in the DLQ"
        await eventually(lambda: settled(js), what="the replay settled")
        assert await notes_and_inbox(pool) == (["kept"], 1)
        assert [e.seq for e in await read_dead_letters(js, ">")] == [gone.seq]

        assert await dlq(nats_url, "drop", str(gone.seq)) == (cli.EXIT_OK, f"dropped {gone.seq}\n", "")
        assert await read_dead_letters(js, ">") == []
    finally:
        notes.stop()
