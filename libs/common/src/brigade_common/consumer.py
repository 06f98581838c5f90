"""The idempotent JetStream consumer: inbox, explicit ack after commit, back-off and dead letters.

A handler gets the envelope and a `Delivery`, and runs its unit of work with `delivery.inbox`: the
transaction that has the message's effect also records it in the inbox, so a redelivery or a
duplicate has no second effect (`AlreadyProcessed`, acknowledged). The ack comes after the commit.

How an outcome maps to ack/nak/term (in one place, `ConsumerRunner.handle`):
- done, or already processed → ack;
- the envelope or its payload fails validation, the handler raises `Poison` or one of the spec's
  `poison` errors → dead-letter + term;
- a dependency is unavailable (brigade_common.dependencies: the database or NATS is down) → neither:
  the runner holds the message (keeping its ack timer alive), stops fetching, waits until the
  dependency answers again and handles the message once more. An outage never costs a delivery;
- any other exception → nak with back-off, until `max_deliver` is reached → dead-letter + term.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import nats.errors
import pydantic
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from brigade_common import dependencies
from brigade_common.db import Reads
from brigade_common.dependencies import Outages, unavailable
from brigade_common.dlq import dead_letter
from brigade_common.envelope import MSG_ID, Envelope
from brigade_common.jetstream import durable_pull_config, ensure_consumer
from brigade_common.logging import get_logger
from brigade_common.messaging import AlreadyProcessed, InboxEntry
from brigade_common.metrics import MESSAGES

log = get_logger(__name__)

# Waits before a consumer whose loop broke starts again: doubling from the first to the last.
CRASH_BACKOFF_S = (0.1, 5.0)
# How long a fetch's messages wait for the inbox's one answer before each asks for itself.
INBOX_ASK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Delivery:
    """One delivery of a message: the inbox entry its unit of work records, and its ack timer."""

    inbox: InboxEntry
    msg: Msg

    async def keep_alive(self) -> None:
        """Reset the ack timer (long work is still going on)."""
        await self.msg.in_progress()


Handler = Callable[[Envelope, Delivery], Awaitable[None]]


class Poison(Exception):
    """A message that can never be processed, whatever the retries: it goes to the dead-letter stream."""


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer and the handler for its messages.

    The handler runs a unit of work with `delivery.inbox`. `long_running` work spreads over several
    transactions (buying from the market): the runner skips a message the inbox already holds before
    calling it (asking for a whole fetch at once), and the handler marks the message processed in its
    last transaction; a redelivery resumes it. `poison` lists the service's errors that no retry can cure.
    """

    name: str
    stream: str
    subjects: tuple[str, ...]
    context: str
    handler: Handler
    long_running: bool = False
    poison: tuple[type[Exception], ...] = ()
    max_deliver: int = 8
    ack_wait_s: float = 30.0
    backoff_s: Sequence[float] = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
    batch: int = 64  # the most fetched at once (never more than the free handler slots)
    concurrency: int = 16

    def delay_for(self, delivered: int) -> float:
        return self.backoff_s[min(delivered, len(self.backoff_s)) - 1]


class ConsumerRunner:
    """Runs one `ConsumerSpec` until cancelled."""

    def __init__(
        self,
        spec: ConsumerSpec,
        *,
        pool: asyncpg.Pool,
        nc: NATS,
        js: JetStreamContext,
        service: str,
        outages: Outages | None = None,
    ) -> None:
        self.spec = spec
        self._reads = Reads(pool)  # the inbox check before a long-running handler
        self._nc = nc
        self._js = js
        self._service = service
        self._outages = outages
        self._free = spec.concurrency  # handler slots not in use
        self._slot_freed = asyncio.Event()
        self.crashes = 0  # times the fetch loop broke and started again (for tests and the log)
        self._handling: set[asyncio.Task[None]] = set()  # a task per message being handled

    async def provision(self) -> None:
        """Create or update the durable consumer (idempotent)."""
        cfg = durable_pull_config(
            self.spec.name,
            list(self.spec.subjects),
            max_deliver=self.spec.max_deliver,
            ack_wait_s=self.spec.ack_wait_s,
        )
        await ensure_consumer(self._js, self.spec.stream, cfg)

    async def run(self) -> None:
        """Fetch and handle messages forever; survives NATS outages, and starts again (after a back-off)
        when anything else breaks it: a consumer that stopped would leave its messages to wait while
        the service looks well."""
        backoff = CRASH_BACKOFF_S[0]
        try:
            while True:
                started = asyncio.get_running_loop().time()
                try:
                    await self._fetch_and_handle()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    if asyncio.get_running_loop().time() - started > CRASH_BACKOFF_S[-1]:
                        backoff = CRASH_BACKOFF_S[0]  # it ran a while: a new fault, not the same one again
                    log.exception("consumer_crashed", consumer=self.spec.name, restart_in_s=backoff)
                    self.crashes += 1
                    await asyncio.sleep(backoff)  # the messages being handled go on meanwhile
                    backoff = min(backoff * 2, CRASH_BACKOFF_S[-1])
        finally:
            for task in self._handling:
                task.cancel()

    async def _fetch_and_handle(self) -> None:
        sub = await self._js.pull_subscribe_bind(durable=self.spec.name, stream=self.spec.stream)
        tasks = self._handling
        try:
            while True:
                if self._outages is not None:
                    await self._outages.all_up()  # no more work taken on while a dependency is down
                while self._free <= 0:
                    self._slot_freed.clear()
                    await self._slot_freed.wait()
                try:
                    # No more than the free slots: a message fetched waits for no one here (its ack
                    # timer running) while another replica of the service could be handling it. A fetch
                    # can still bring more: nats-py hands out, first, every message a fetch that timed
                    # out received late. Those are handled all the same (their ack timers run too), and
                    # the next fetch waits until the slots they took are free again.
                    msgs = await sub.fetch(min(self.spec.batch, self._free), timeout=2.0)
                except (TimeoutError, nats.errors.TimeoutError) as exc:
                    # An empty fetch raises; so does one sent while the client reconnects.
                    if not self._nc.is_connected:
                        await self._ride_out(dependencies.NATS, exc)
                    continue
                except Exception as exc:
                    if unavailable(exc) != dependencies.NATS:
                        raise
                    await self._ride_out(dependencies.NATS, exc)
                    continue
                seen = await self._inbox_holds(msgs) if self.spec.long_running else {}
                for msg in msgs:
                    self._free -= 1
                    task = asyncio.create_task(self._handle_in_slot(msg, seen))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _inbox_holds(self, msgs: Sequence[Msg]) -> Mapping[str, bool]:
        """For a long-running consumer, whether the inbox holds each message of a fetch, asked in one
        statement (by the `Nats-Msg-Id` the relay gives each message, its envelope's id) instead of one
        per message: a round trip less for each, and the fetch's messages reach their handler in the
        same turn of the event loop, so that handlers which group their work (the warehouse's stock
        transactions) take them together. A message not answered for here (no such header, or the
        database did not answer) asks for itself before its handler, as before."""
        ids = [i for m in msgs if (i := (m.headers or {}).get(MSG_ID))]
        if not ids:
            return {}
        try:
            async with asyncio.timeout(INBOX_ASK_TIMEOUT_S):  # the fetched messages' ack timers run
                rows = await self._reads.fetch(
                    "SELECT message_id FROM inbox WHERE consumer = $1 AND message_id = ANY($2::text[])",
                    self.spec.name,
                    ids,
                )
        except Exception:  # e.g. the database is down: each message finds it out, and rides it out
            return {}
        held = {r["message_id"] for r in rows}
        return {i: i in held for i in ids}

    async def _handle_in_slot(self, msg: Msg, seen: Mapping[str, bool]) -> None:
        try:
            await self.handle(msg, seen)
        finally:
            self._free += 1
            self._slot_freed.set()

    async def handle(self, msg: Msg, seen: Mapping[str, bool]) -> None:
        """Process one message and settle it (ack, nak or dead-letter + term); `seen` says, for the
        ids it names, whether the inbox already held them when the message was fetched."""
        try:
            envelope = Envelope.from_bytes(msg.data)
        except pydantic.ValidationError as exc:
            await self._dead_letter(msg, f"invalid envelope: {_short(exc)}")
            return
        with structlog.contextvars.bound_contextvars(
            consumer=self.spec.name, message_id=envelope.id, correlation_id=envelope.correlation_id
        ):
            await self._settle(msg, envelope, seen.get(envelope.id))

    async def _settle(self, msg: Msg, envelope: Envelope, seen: bool | None) -> None:
        poison: tuple[type[Exception], ...] = (pydantic.ValidationError, Poison, *self.spec.poison)
        while True:
            try:
                duplicate = await self._process(envelope, msg, seen)
                seen = None  # after an outage, the inbox is asked again
            except poison as exc:
                await self._dead_letter(msg, f"{type(exc).__name__}: {_short(exc)}", envelope)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                dependency = unavailable(exc)
                if dependency is None or self._outages is None:
                    await self._retry(msg, envelope, exc)
                    return
                MESSAGES.labels(self._service, self.spec.name, "held").inc()
                await self._ride_out(dependency, exc, msg)
                continue
            break
        try:
            await msg.ack()
        except Exception as exc:  # NATS went away after the commit: the inbox drops the redelivery
            if unavailable(exc) is None:
                raise
            log.warning("ack_failed", error=repr(exc))
            return
        MESSAGES.labels(self._service, self.spec.name, "duplicate" if duplicate else "ack").inc()

    async def _ride_out(self, dependency: str, exc: BaseException, msg: Msg | None = None) -> None:
        """Wait for `dependency` to answer again, keeping `msg` (if any) from being redelivered."""
        if self._outages is None:
            await asyncio.sleep(1.0)
            return
        self._outages.report(dependency, exc)
        keep_alive = msg.in_progress if msg is not None else None
        await self._outages.wait(dependency, keep_alive=keep_alive, every_s=max(self.spec.ack_wait_s / 3, 0.5))

    async def _process(self, envelope: Envelope, msg: Msg, seen: bool | None) -> bool:
        """Run the handler; True when the message had been processed already (a long-running handler
        is not called for a message the inbox holds: `seen`, or asked now when that is None)."""
        entry = InboxEntry(self.spec.name, envelope.id)
        if self.spec.long_running:
            if seen is None:
                seen = bool(
                    await self._reads.fetchval(
                        "SELECT true FROM inbox WHERE consumer = $1 AND message_id = $2",
                        entry.consumer,
                        entry.message_id,
                    )
                )
            if seen:
                return True
        try:
            await self.spec.handler(envelope, Delivery(entry, msg))
        except AlreadyProcessed:
            return True
        return False

    async def _retry(self, msg: Msg, envelope: Envelope, exc: Exception) -> None:
        delivered = msg.metadata.num_delivered
        if delivered >= self.spec.max_deliver:
            await self._dead_letter(msg, f"gave up after {delivered} deliveries: {exc!r}", envelope)
            return
        delay = self.spec.delay_for(delivered)
        log.warning(
            "message_retry",
            type=envelope.type,
            delivered=delivered,
            retry_in_s=delay,
            error=repr(exc),
        )
        MESSAGES.labels(self._service, self.spec.name, "nak").inc()
        await msg.nak(delay=delay)

    async def _dead_letter(self, msg: Msg, error: str, envelope: Envelope | None = None) -> None:
        log.error(
            "message_dead_lettered",
            consumer=self.spec.name,
            subject=msg.subject,
            message_id=envelope.id if envelope else None,
            error=error,
        )
        await dead_letter(self._js, msg, context=self.spec.context, consumer=self.spec.name, error=error)
        await msg.term()
        MESSAGES.labels(self._service, self.spec.name, "dlq").inc()


def _short(exc: Exception, limit: int = 500) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"
