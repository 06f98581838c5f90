"""Transactional outbox: events are written with the change that causes them and published after commit.

`enqueue` runs inside the caller's transaction. The `OutboxRelay` publishes right after commit the rows
a unit of work hands over, from memory, and sweeps leftovers (a crash between commit and publish, a
failed publish) on an interval, locking them with `FOR UPDATE SKIP LOCKED`, so several replicas relay
side by side; the row id is the `Nats-Msg-Id`, so a row published twice (crash after publish, before
delete; a hot publish slower than the sweep's grace) is dropped by the broker's de-duplication window
and, beyond it, by the consumers' inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from nats.js import JetStreamContext

from brigade_common.db import session_unchanged
from brigade_common.envelope import MSG_ID, Envelope
from brigade_common.logging import get_logger
from brigade_common.metrics import OUTBOX_LAG, OUTBOX_PUBLISHED
from brigade_common.writes import Table, insert_sql

log = get_logger(__name__)

# Acknowledged ids kept for a delete that failed (the database is down); beyond it the sweep takes over.
MAX_UNDELETED = 10_000

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
OutboxRow = tuple[str, str, str, bytes]  # id, subject, headers (JSON text), payload: OUTBOX's columns
OUTBOX = Table.of("outbox", ("id", "text"), ("subject", "text"), ("headers", "text", "jsonb"), ("payload", "bytea"))


def outbox_row(envelope: Envelope, subject: str | None = None, headers: Mapping[str, str] | None = None) -> OutboxRow:
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
    """Publishes outbox rows to JetStream; one per process, started by the service's lifespan.

    Two paths, one table:
    - **hot**: a unit of work hands over the rows it has just committed (`committed`); they are
      published at once from memory, pipelined (no wait for one batch's acks before the next goes
      out), and deleted by id once acknowledged: one DELETE at most every `delete_interval_s`, of
      every row acknowledged meanwhile (under load a DELETE per commit cost the kitchen 5–8 % of its
      orders/s, docs/benchmarks.md). No SELECT, no lock, no extra round trip before the publish.
    - **sweep**: every `sweep_interval_s`, rows older than `sweep_grace_s` (a crash between commit
      and publish, a publish that failed, another replica's rows it never published) are locked with
      `FOR UPDATE SKIP LOCKED`, published and deleted in one transaction, batch after batch.
    A row both paths publish (a hot publish slower than the grace) is one message: its id is the
    `Nats-Msg-Id`, which the broker de-duplicates, and the consumers' inbox beyond the broker's window.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        *,
        service: str,
        batch_size: int = 256,
        sweep_interval_s: float = 1.0,
        sweep_grace_s: float = 2.0,
        publish_timeout_s: float = 5.0,
        max_in_flight: int = 8,
        delete_interval_s: float = 0.02,
    ) -> None:
        self._pool = pool
        self._js = js
        self._service = service
        self._batch_size = batch_size
        self._sweep_interval_s = sweep_interval_s
        self._sweep_grace_s = sweep_grace_s
        self._publish_timeout_s = publish_timeout_s
        self._delete_interval_s = delete_interval_s
        self._wake = asyncio.Event()
        self._sweep_now = False
        self._ready: list[tuple[OutboxRow, float]] = []  # committed rows not yet published, with when
        self._in_flight = asyncio.Semaphore(max_in_flight)  # hot batches waiting for their acks
        self._flying: set[str] = set()  # published ids waiting for their acks
        self._acked: list[str] = []  # published ids not yet deleted
        self._ack_wake = asyncio.Event()
        self._settling: set[asyncio.Task[None]] = set()
        self.sweeps = 0  # sweeps run, and hot batches whose publish failed: for tests to wait on
        self.failed_publishes = 0
        self.deletes = 0  # DELETE statements of acknowledged rows run
        self._published = OUTBOX_PUBLISHED.labels(service)
        self._lag = OUTBOX_LAG.labels(service)

    def committed(self, rows: Sequence[OutboxRow]) -> None:
        """The rows a transaction has just committed: published now, without reading them back."""
        now = time.monotonic()
        self._ready.extend((row, now) for row in rows)
        if len(self._ready) > MAX_UNDELETED:  # NATS is away: the oldest wait for the sweep instead
            del self._ready[: len(self._ready) - MAX_UNDELETED]
        self._wake.set()

    def notify(self) -> None:
        """Rows were committed that were not handed over: sweep now, whatever their age."""
        self._sweep_now = True
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled; transient failures (NATS or Postgres down) are retried."""
        deleter = asyncio.create_task(self._delete_acked(), name=f"outbox-delete:{self._service}")
        try:
            await self._relay()
        finally:
            for task in (deleter, *self._settling):
                task.cancel()
            await asyncio.gather(deleter, *self._settling, return_exceptions=True)

    async def _relay(self) -> None:
        backoff = 0.1
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + self._sweep_interval_s
        while True:
            try:
                await self._publish_ready()
                if self._sweep_now or loop.time() >= next_sweep:
                    grace = 0.0 if self._sweep_now else self._sweep_grace_s
                    self._sweep_now = False
                    next_sweep = loop.time() + self._sweep_interval_s
                    while await self.publish_batch(older_than_s=grace) == self._batch_size:
                        pass
                    self.sweeps += 1
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_relay_failed", error=repr(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if self._ready:
                continue
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that races
            # with the event being set, and the relay would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(next_sweep - loop.time(), 0.0)):
                    await self._wake.wait()
            self._wake.clear()

    async def _publish_ready(self) -> None:
        """Publish the handed-over rows, a batch at a time, each batch's acks awaited in the background."""
        while self._ready:
            await self._in_flight.acquire()
            batch, self._ready = self._ready[: self._batch_size], self._ready[self._batch_size :]
            futures = []
            try:
                for (id_, subject, headers, payload), _ in batch:
                    futures.append(await self._publish(id_, subject, headers, payload))
            except BaseException:
                self._in_flight.release()
                for fut in futures:
                    fut.cancel()
                raise  # the rows stay in the table: the sweep publishes them after its grace
            self._flying.update(row[0] for row, _ in batch)
            task = asyncio.create_task(self._settle(batch, futures))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)

    async def _settle(self, batch: list[tuple[OutboxRow, float]], futures: Sequence[Awaitable[object]]) -> None:
        try:
            async with asyncio.timeout(self._publish_timeout_s):
                await asyncio.gather(*futures)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed_publishes += 1
            log.warning("outbox_publish_failed", rows=len(batch), error=repr(exc))
            return  # left for the sweep
        finally:
            self._in_flight.release()
            self._flying.difference_update(row[0] for row, _ in batch)
        now = time.monotonic()
        self._published.inc(len(batch))
        for _, handed in batch:
            self._lag.observe(now - handed)
        self._acked.extend(row[0] for row, _ in batch)
        self._ack_wake.set()

    async def _delete_acked(self) -> None:
        """Delete the published rows by id, all that were acknowledged meanwhile in one statement, then
        wait `delete_interval_s` before the next (a row is deleted at most that much later)."""
        backoff = 0.1
        while True:
            await self._ack_wake.wait()
            self._ack_wake.clear()
            while self._acked:
                ids, self._acked = self._acked, []
                try:
                    async with self._pool.acquire() as conn:
                        await conn.execute("DELETE FROM outbox WHERE id = ANY($1::text[])", ids)
                        session_unchanged(conn)  # one autocommit statement: no reset query on release
                    self.deletes += 1
                    backoff = 0.1
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Kept to try again (the sweep would otherwise publish them a second time: harmless,
                    # one message by its id, but work), up to a bound beyond which the sweep takes over.
                    self._acked = [*ids, *self._acked][:MAX_UNDELETED]
                    log.warning("outbox_delete_failed", rows=len(ids), error=repr(exc), retry_in_s=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                await asyncio.sleep(self._delete_interval_s)

    def _unsettled(self) -> list[str]:
        """Ids this process is publishing or deleting (the sweep leaves them alone)."""
        ids = [row[0] for row, _ in self._ready[:MAX_UNDELETED]]
        return [*ids, *list(self._flying)[:MAX_UNDELETED], *self._acked[:MAX_UNDELETED]]

    async def publish_batch(self, older_than_s: float = 0.0) -> int:
        """Publish up to one batch of pending rows committed at least `older_than_s` ago; returns how
        many were published."""
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                rows = await self._sweep_rows(conn, older_than_s)
                if not rows:
                    return 0
                futures = [await self._publish(r["id"], r["subject"], r["headers"], bytes(r["payload"])) for r in rows]
                async with asyncio.timeout(self._publish_timeout_s):
                    await asyncio.gather(*futures)
                await conn.execute("DELETE FROM outbox WHERE seq = ANY($1::bigint[])", [r["seq"] for r in rows])
            session_unchanged(conn)  # only the transaction ran on it: no reset query on release
        now = datetime.now(UTC)
        self._published.inc(len(rows))
        for row in rows:
            self._lag.observe((now - row["created_at"]).total_seconds())
        return len(rows)

    async def _sweep_rows(self, conn: asyncpg.Connection, older_than_s: float) -> list[asyncpg.Record]:
        """Up to a batch of rows older than `older_than_s` that no one else holds, locked."""
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT seq, id, subject, headers::text AS headers, payload, created_at FROM outbox "
            "WHERE created_at <= clock_timestamp() - make_interval(secs => $2) AND NOT (id = ANY($3::text[])) "
            "ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
            self._batch_size,
            older_than_s,
            self._unsettled(),
        )
        return rows

    async def _publish(self, id_: str, subject: str, headers: str, payload: bytes) -> asyncio.Future[Any]:
        """Send one row (its id as `Nats-Msg-Id`); the returned future resolves with its ack."""
        h = json.loads(headers)
        h[MSG_ID] = id_
        return await self._js.publish_async(subject, payload, headers=h)


async def pending_count(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """Rows not yet published (for readiness details and tests)."""
    n: int = await conn.fetchval("SELECT count(*) FROM outbox")
    return n
