"""A database outage longer than the whole retry budget costs no delivery and no dead letter:
the consumer holds its messages, probes, and finishes them when PostgreSQL is back. Real servers."""

from __future__ import annotations

import asyncio
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from prometheus_client import REGISTRY

from brigade_common.consumer import ConsumerRunner, ConsumerSpec, Delivery
from brigade_common.db import create_pool
from brigade_common.dependencies import DATABASE, Outages
from brigade_common.devservers import PostgresServer, free_port
from brigade_common.dlq import read_dead_letters
from brigade_common.envelope import Envelope
from brigade_common.health import database_check, nats_check
from brigade_common.jetstream import ensure_stream, stream_config
from brigade_common.messaging import MessageContext
from brigade_common.outbox import OUTBOX_DDL
from brigade_common.testing.waiting import eventually
from brigade_common.unit_of_work import INBOX_DDL, Transaction

SERVICE = "outage-test"


@pytest.fixture
async def own_postgres() -> AsyncIterator[PostgresServer]:
    """A PostgreSQL of this test's own: it is killed and started again, which the shared one must not
    be. Default durability: with FAST_SETTINGS a SIGKILL loses commits still in the WAL buffers."""
    with tempfile.TemporaryDirectory(prefix="brigade-outage-") as root:
        server = PostgresServer(Path(root) / "data", free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()


def probes_so_far() -> float:
    return (
        REGISTRY.get_sample_value("brigade_dependency_probes_total", {"service": SERVICE, "dependency": DATABASE})
        or 0.0
    )


async def test_a_database_outage_longer_than_the_retry_budget_loses_nothing(
    own_postgres: PostgresServer, nc: NATS
) -> None:
    js = nc.jetstream()
    await ensure_stream(js, stream_config("TEST", ["test.>"]))
    await ensure_stream(js, stream_config("DLQ", ["dlq.>"]))
    admin = await asyncpg.connect(own_postgres.url)
    await admin.execute("CREATE SCHEMA app")
    await admin.execute(f"SET search_path = app; {OUTBOX_DDL} {INBOX_DDL} CREATE TABLE notes (text text);")
    await admin.close()
    pool = await create_pool(own_postgres.url, "app", max_size=4)
    outages = Outages(SERVICE, {DATABASE: database_check(pool), "nats": nats_check(nc)}, backoff_s=(0.1, 0.2))

    async def add_note(env: Envelope, delivery: Delivery) -> None:
        async with Transaction(pool, context=MessageContext.caused_by(env), inbox=delivery.inbox) as tx:
            await tx.session.execute("INSERT INTO notes (text) VALUES ($1)", env.data["text"])
            await tx.commit()

    # Two deliveries 50 ms apart: a retried outage would be dead-lettered within a tenth of a second.
    spec = ConsumerSpec(
        "notes", "TEST", ("test.>",), "test", handler=add_note, max_deliver=2, backoff_s=(0.05,), ack_wait_s=2
    )
    runner = ConsumerRunner(spec, pool=pool, nc=nc, js=js, service=SERVICE, outages=outages)
    await runner.provision()
    task = asyncio.create_task(runner.run())

    async def publish(text: str) -> None:
        env = Envelope.wrap("test.note.added.v1", {"text": text})
        await js.publish(env.type, env.to_bytes(), headers=env.headers())

    async def notes() -> list[str]:
        return sorted(r["text"] for r in await pool.fetch("SELECT text FROM notes"))

    try:
        await publish("before")
        await eventually(_equals(notes, ["before"]), 10, "the first note")
        assert own_postgres.proc is not None
        own_postgres.proc.send_signal(signal.SIGKILL)
        own_postgres.proc.wait(10)
        for text in ("during-1", "during-2", "during-3"):
            await publish(text)
        await eventually(lambda: outages.down() == [DATABASE], 10, "the database seen down")
        start = probes_so_far()
        # Past the retry budget (two deliveries) many times over, and past the 2 s ack wait: the
        # held messages are kept alive, not redelivered.
        await eventually(lambda: probes_so_far() - start >= 12, 30, "a dozen probes of the dead database")
        own_postgres.start()
        await eventually(_equals(notes, ["before", "during-1", "during-2", "during-3"]), 30, "every note")
        await eventually(lambda: outages.down() == [], 10, "the database seen back")
        info = await js.consumer_info("TEST", "notes")
        assert info.num_redelivered == 0
        assert await read_dead_letters(js) == []
    finally:
        task.cancel()
        await outages.close()
        await pool.close()


def _equals(read: object, expected: list[str]) -> object:
    async def check() -> bool:
        try:
            return await read() == expected  # type: ignore[operator, no-any-return]
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False  # the database is still coming back

    return check
