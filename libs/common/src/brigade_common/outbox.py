"""Transactional outbox: events are written with the change that causes them and published after commit.

`enqueue` runs inside the caller's transaction. The `OutboxRelay` publishes right after commit when
notified, and sweeps leftovers (a crash between commit and publish) on an interval. Rows are locked with
`FOR UPDATE SKIP LOCKED`, so several replicas can relay side by side; the row id is the
`Nats-Msg-Id`, so a row published twice (crash after publish, before delete) is dropped by the broker's
de-duplication window and, beyond it, by the consumers' inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

import asyncpg
from nats.js import JetStreamContext

from brigade_common.envelope import MSG_ID, Envelope
from brigade_common.logging import get_logger
from brigade_common.metrics import OUTBOX_LAG, OUTBOX_PUBLISHED
from brigade_common.writes import Table, insert_sql

log = get_logger(__name__)

OUTBOX_DDL = """
CREATE TABLE outbox (
    seq        bigserial PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    subject    text NOT NULL,
    headers    jsonb NOT NULL DEFAULT '{}'::jsonb,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""
# The columns a unit of work buffers (headers travel as text: the pool's jsonb codec would encode a
# JSON string twice).
OUTBOX = Table.of("outbox", ("id", "text"), ("subject", "text"), ("headers", "text", "jsonb"), ("payload", "bytea"))


def outbox_row(
    envelope: Envelope, subject: str | None = None, headers: Mapping[str, str] | None = None
) -> tuple[str, str, str, bytes]:
    """The `OUTBOX` row of `envelope` (subject defaults to its type; `headers` add to its own)."""
    h = envelope.headers()
    if headers:
        h.update(headers)
    return (envelope.id, subject or envelope.type, json.dumps(h), envelope.to_bytes())


async def enqueue(
    conn: asyncpg.Connection,
    envelope: Envelope,
    *,
    subject: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Add `envelope` to the outbox in the caller's transaction (subject defaults to its type)."""
    sql, args = insert_sql(OUTBOX, [outbox_row(envelope, subject, headers)])
    await conn.execute(sql, *args)


class OutboxRelay:
    """Publishes outbox rows to JetStream; one per process, started by the service's lifespan."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        *,
        service: str,
        batch_size: int = 256,
        sweep_interval_s: float = 1.0,
        publish_timeout_s: float = 5.0,
    ) -> None:
        self._pool = pool
        self._js = js
        self._service = service
        self._batch_size = batch_size
        self._sweep_interval_s = sweep_interval_s
        self._publish_timeout_s = publish_timeout_s
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Call after a commit that enqueued something: the relay publishes without waiting a sweep."""
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled; transient failures (NATS or Postgres down) are retried."""
        backoff = 0.1
        while True:
            try:
                while await self.publish_batch() == self._batch_size:
                    pass
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_relay_failed", error=repr(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that races
            # with the event being set, and the relay would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sweep_interval_s):
                    await self._wake.wait()
            self._wake.clear()

    async def publish_batch(self) -> int:
        """Publish up to one batch of pending rows; returns how many were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT seq, id, subject, headers::text AS headers, payload, created_at FROM outbox "
                "ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch_size,
            )
            if not rows:
                return 0
            futures = []
            for row in rows:
                headers = json.loads(row["headers"])
                headers[MSG_ID] = row["id"]
                futures.append(await self._js.publish_async(row["subject"], bytes(row["payload"]), headers=headers))
            async with asyncio.timeout(self._publish_timeout_s):
                await asyncio.gather(*futures)
            await conn.execute("DELETE FROM outbox WHERE seq = ANY($1::bigint[])", [r["seq"] for r in rows])
        now = datetime.now(UTC)
        OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        for row in rows:
            OUTBOX_LAG.labels(self._service).observe((now - row["created_at"]).total_seconds())
        return len(rows)


async def pending_count(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """Rows not yet published (for readiness details and tests)."""
    n: int = await conn.fetchval("SELECT count(*) FROM outbox")
    return n
