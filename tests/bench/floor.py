"""The floor: what one JetStream hop and one tiny PostgreSQL transaction cost on this machine.

- JetStream round trip: `js.publish` (waits for the PubAck) on one connection, a durable pull
  consumer fetching in batches and acking on another (as `ConsumerRunner` does); latency from
  before the publish until the consumer holds the message.
- asyncpg transaction: BEGIN; UPDATE one row; COMMIT, each worker on its own pooled connection,
  on its own row ("own row") and all on the same row ("hot row", the lock convoy in miniature).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import asyncpg
import nats
import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig

from brigade_common.jetstream import ensure_stream, stream_config
from tests.bench.loop import Timing, closed_loop
from tests.bench.stats import Step

SUBJECT = "bench.rt"


async def jetstream_round_trip(nats_url: str, concurrencies: list[int], timing: Timing) -> list[Step]:
    pub = await nats.connect(nats_url, name="bench-pub")
    sub_nc = await nats.connect(nats_url, name="bench-sub")
    js, sub_js = pub.jetstream(), sub_nc.jetstream()
    waiting: dict[str, asyncio.Future[float]] = {}
    try:
        await ensure_stream(js, stream_config("BENCH", [SUBJECT]))
        await sub_js.add_consumer(
            "BENCH", ConsumerConfig(durable_name="bench", ack_policy=AckPolicy.EXPLICIT, filter_subject=SUBJECT)
        )
        psub = await sub_js.pull_subscribe_bind(durable="bench", stream="BENCH")

        async def consume() -> None:
            while True:
                try:
                    msgs = await psub.fetch(64, timeout=2.0)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                now = time.perf_counter()
                for msg in msgs:
                    fut = waiting.pop(msg.data.decode(), None)
                    if fut is not None and not fut.done():
                        fut.set_result(now)
                    await msg.ack()

        consumer = asyncio.create_task(consume())

        async def op(i: int) -> tuple[bool, str]:
            key = uuid.uuid4().hex
            fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            waiting[key] = fut
            await js.publish(SUBJECT, key.encode())
            await asyncio.wait_for(fut, 10.0)
            return True, "ok"

        try:
            return [await closed_loop("JetStream publish→consume", op, c, timing) for c in concurrencies]
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await consumer
    finally:
        for nc in (pub, sub_nc):
            with contextlib.suppress(Exception):
                await nc.close()


async def postgres_transaction(database_url: str, concurrencies: list[int], timing: Timing) -> list[Step]:
    steps: list[Step] = []
    setup = await asyncpg.connect(database_url)
    try:
        await setup.execute("CREATE TABLE IF NOT EXISTS bench_rows (id int PRIMARY KEY, n bigint NOT NULL)")
        await setup.execute("INSERT INTO bench_rows SELECT g, 0 FROM generate_series(0, 255) g ON CONFLICT DO NOTHING")
    finally:
        await setup.close()
    for hot in (False, True):
        for c in concurrencies:
            pool = await asyncpg.create_pool(database_url, min_size=c, max_size=c)
            assert pool is not None
            conns = [await pool.acquire() for _ in range(c)]

            async def op(i: int, conns: list[asyncpg.Connection] = conns, hot: bool = hot) -> tuple[bool, str]:
                conn = conns[i]
                async with conn.transaction():
                    await conn.execute("UPDATE bench_rows SET n = n + 1 WHERE id = $1", 0 if hot else i)
                return True, "ok"

            label = "asyncpg BEGIN;UPDATE;COMMIT " + ("hot row" if hot else "own row")
            try:
                steps.append(await closed_loop(label, op, c, timing))
            finally:
                pool.terminate()  # the step is over (or cancelled): no graceful release needed
    return steps
