"""The consumer's fetch loop on real nats-server: when a fetch brings more than it asked for, and when
something breaks the loop.

nats-py's `fetch(n)` first hands out every message already waiting in the subscription: those a
fetch that timed out received late, however many. The runner asks for no more than its free slots;
regression: it counted the extra ones into negative free slots, asked the next fetch for a negative
batch, nats-py refused it, and the consumer died (a warehouse that no longer took supply commands,
every order it was asked for left pending, seen under load in the 50-concurrent-orders e2e test). And
a loop that breaks for any other reason starts again: the service must not go on without it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
from nats.aio.client import Client as NATS

from brigade_common.consumer import ConsumerRunner, ConsumerSpec, Delivery
from brigade_common.envelope import Envelope
from brigade_common.messaging import MessageContext
from brigade_common.testing.waiting import eventually
from brigade_common.unit_of_work import Transaction
from libs.common.tests.test_messaging import count_notes, provision


class LateMessages:
    """The JetStream context, but the subscription it binds has `late` messages waiting in it, as a
    fetch that timed out leaves them (its pull request answered after the client gave up)."""

    def __init__(self, nc: NATS, late: int) -> None:
        self._js = nc.jetstream()
        self._nc = nc
        self._late = late

    async def pull_subscribe_bind(self, **kw: Any) -> Any:
        sub = await self._js.pull_subscribe_bind(**kw)
        request = json.dumps({"batch": self._late, "no_wait": True}).encode()
        await self._nc.publish(sub._nms, request, sub._deliver)  # the late answer's pull request
        await eventually(lambda: sub._sub._pending_queue.qsize() >= self._late, 10, "the late messages")
        return sub

    def __getattr__(self, name: str) -> Any:
        return getattr(self._js, name)


async def test_a_fetch_that_brings_more_than_the_free_slots_is_handled_and_the_consumer_goes_on(
    pool: asyncpg.Pool, nc: NATS
) -> None:
    await provision(nc)
    js = nc.jetstream()

    for i in range(6):
        env = Envelope.wrap("test.note.added.v1", {"text": f"early {i}"})
        await js.publish(env.type, env.to_bytes(), headers=env.headers())
    spec = ConsumerSpec("notes", "TEST", ("test.>",), context="test", handler=_add_note(pool), concurrency=2)
    runner = ConsumerRunner(spec, pool=pool, nc=nc, js=LateMessages(nc, 6), service="test")  # type: ignore[arg-type]
    await runner.provision()
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: _count_is(pool, 6), 15, "the six late messages, each handled")
        env = Envelope.wrap("test.note.added.v1", {"text": "after"})
        await js.publish(env.type, env.to_bytes(), headers=env.headers())
        await eventually(lambda: _count_is(pool, 7), 15, "a message published after them")
        assert not task.done(), "the consumer stopped"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _add_note(pool: asyncpg.Pool) -> Any:
    async def add_note(env: Envelope, delivery: Delivery) -> None:
        async with Transaction(pool, context=MessageContext.caused_by(env), inbox=delivery.inbox) as tx:
            await tx.session.execute("INSERT INTO notes (text) VALUES ($1)", env.data["text"])
            await tx.commit()

    return add_note


async def _count_is(pool: asyncpg.Pool, n: int) -> bool:
    return await count_notes(pool) == n


class BreaksOnce:
    """The JetStream context, but the first subscription it binds breaks on its first fetch with an
    error nobody expects (a bug of ours or of the client library's)."""

    def __init__(self, nc: NATS) -> None:
        self._js = nc.jetstream()
        self.broken = False

    async def pull_subscribe_bind(self, **kw: Any) -> Any:
        sub = await self._js.pull_subscribe_bind(**kw)
        if self.broken:
            return sub
        self.broken = True
        real_fetch = sub.fetch

        async def fetch(*args: Any, **kwargs: Any) -> Any:
            sub.fetch = real_fetch
            raise RuntimeError("an error nobody expects")

        sub.fetch = fetch
        return sub

    def __getattr__(self, name: str) -> Any:
        return getattr(self._js, name)


async def test_a_consumer_whose_loop_breaks_starts_again_and_handles_what_comes(pool: asyncpg.Pool, nc: NATS) -> None:
    await provision(nc)
    js = nc.jetstream()
    spec = ConsumerSpec("notes", "TEST", ("test.>",), context="test", handler=_add_note(pool))
    runner = ConsumerRunner(spec, pool=pool, nc=nc, js=BreaksOnce(nc), service="test")  # type: ignore[arg-type]
    await runner.provision()
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: runner.crashes == 1, 15, "the loop broken once")
        env = Envelope.wrap("test.note.added.v1", {"text": "after the break"})
        await js.publish(env.type, env.to_bytes(), headers=env.headers())
        await eventually(lambda: _count_is(pool, 1), 15, "the message handled by the loop started again")
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
