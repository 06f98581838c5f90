"""The transaction under every service's unit of work: one connection, the write buffer, outbox, inbox.

A service's unit of work (its `adapters/unit_of_work.py`) is a `UnitOfWork`: it opens a
`Transaction`, builds its repositories on `Transaction.session`, and at commit hands over the
messages its events become. The `Transaction` then, in this order: buffers the outbox rows, flushes every buffered write
in one statement, commits, and hands the outbox rows to the relay. Leaving without a commit rolls back, so a
failed use case leaves nothing behind, outbox rows included.

The inbox makes a consumer idempotent. A handler's transaction claims its message first
(`claim_inbox`): a message already processed raises `AlreadyProcessed`, which the consumer runner
acknowledges without effect. Work spread over several transactions instead marks the message
processed in its last one (`mark_processed`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import asyncpg
import pydantic_core

from brigade_common.db import session_unchanged
from brigade_common.envelope import CORRELATION_ID, MSG_ID, new_id, utcnow
from brigade_common.messaging import AlreadyProcessed, InboxEntry, MessageContext, Outgoing
from brigade_common.outbox import OUTBOX, OutboxRow
from brigade_common.writes import Session, Table

INBOX_DDL = """
CREATE TABLE inbox (
    consumer     text NOT NULL,
    message_id   text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
"""
# Called after a commit that wrote outbox rows, with those rows (the relay publishes them at once).
OnCommit = Callable[[Sequence[OutboxRow]], None]

INBOX = Table.of("inbox", ("consumer", "text"), ("message_id", "text"), conflict="ON CONFLICT DO NOTHING")


def message_row(message: Outgoing, context: MessageContext) -> OutboxRow:
    """The `OUTBOX` row of `message` sent with `context`: `outbox_row(message.envelope(context), …)`,
    the same columns and the same JSON, without building and validating an `Envelope` and its
    payload's dict on the way (this runs for every message every service sends; the envelope's
    fields come from code and from ids checked where they entered)."""
    msg_id = new_id()
    headers = {MSG_ID: msg_id, CORRELATION_ID: context.correlation_id, **message.headers}
    envelope = {
        "id": msg_id,
        "type": message.type,
        "occurred_at": message.occurred_at or utcnow(),
        "correlation_id": context.correlation_id,
        "causation_id": context.causation_id,
        "data": message.payload,
    }
    return msg_id, message.subject or message.type, json.dumps(headers), pydantic_core.to_json(envelope)


class Transaction:
    """One connection, one transaction, one write buffer (`session`), the outbox and the inbox."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        context: MessageContext,
        inbox: InboxEntry | None = None,
        on_commit: OnCommit | None = None,
    ) -> None:
        self.context = context
        self._pool = pool
        self._inbox = inbox
        self._on_commit = on_commit
        self._conn: asyncpg.Connection | None = None
        self._tx: Any = None
        self._session: Session | None = None
        self._committed = False
        self._sent: list[OutboxRow] = []

    @property
    def session(self) -> Session:
        assert self._session is not None, "the transaction is not open"
        return self._session

    async def __aenter__(self) -> Transaction:
        self._conn = await self._pool.acquire()
        try:
            self._tx = self._conn.transaction()
            await self._tx.start()
            self._session = Session(self._conn)
            if self._inbox is not None:
                await self._claim(self._inbox)
        except BaseException:
            await self._close()
            raise
        return self

    async def _claim(self, entry: InboxEntry) -> None:
        inserted = await self.session.fetchval(
            "INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
            entry.consumer,
            entry.message_id,
        )
        if not inserted:
            raise AlreadyProcessed(entry.message_id)

    async def claim_all(self, entries: Sequence[InboxEntry]) -> list[bool]:
        """Claim the messages of a unit of work that handles several at once (as `_claim` claims the
        one it was opened with), in one statement: for each, whether it is claimed now (False: the
        inbox holds it already, and it must have no effect)."""
        if not entries:
            return []
        claimed = await self.session.fetch(
            "INSERT INTO inbox (consumer, message_id) SELECT * FROM unnest($1::text[], $2::text[]) "
            "ON CONFLICT DO NOTHING RETURNING consumer, message_id",
            [e.consumer for e in entries],
            [e.message_id for e in entries],
        )
        now = {InboxEntry(r["consumer"], r["message_id"]) for r in claimed}
        result = []
        for entry in entries:  # the same message twice (redelivered meanwhile): the first claims it
            result.append(entry in now)
            now.discard(entry)
        return result

    def mark_processed(self, entry: InboxEntry) -> None:
        """Record `entry` in the inbox with this transaction's writes (the last step of long work)."""
        self.session.buffer.insert(INBOX, (entry.consumer, entry.message_id))

    async def commit(self, messages: Iterable[Outgoing | tuple[Outgoing, MessageContext | None]] = ()) -> None:
        """Queue `messages` in the outbox, flush every buffered write, commit. A message paired with a
        context carries that one instead of the transaction's (work done for several requests at once)."""
        for item in messages:
            message, context = item if isinstance(item, tuple) else (item, None)
            row = message_row(message, context or self.context)
            self.session.buffer.insert(OUTBOX, row)
            self._sent.append(row)
        await self.session.flush()
        await self._tx.commit()
        self._committed = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._close()
        if self._committed and self._sent and self._on_commit is not None:
            self._on_commit(self._sent)

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not self._committed and self._tx is not None:
                await self._tx.rollback()
            # Only the transaction ran on it: the session is as the pool gave it (no reset query).
            session_unchanged(conn)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            # The connection broke (the reason we are leaving, often): the transaction is aborted
            # either way, and release() discards a broken connection.
            pass
        finally:
            await self._pool.release(conn)


E = TypeVar("E")


class UnitOfWork(Generic[E]):
    """The base of a service's unit of work on PostgreSQL: one `Transaction`, the repositories a
    subclass builds on its session (`open`), and at `commit` the events recorded with `record` and
    those the aggregates recorded (`persist`, which also buffers the aggregates' changes), each
    sent as the message `to_message` makes of it.

        class KitchenUnitOfWork(UnitOfWork[Event]):
            def open(self, session): self.orders = PostgresOrders(session); ...
            def persist(self): return self.orders.persist()
            def to_message(self, event): return outgoing(event)
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        context: MessageContext,
        inbox: InboxEntry | None = None,
        *,
        on_commit: OnCommit | None = None,
    ) -> None:
        self._tx = Transaction(pool, context=context, inbox=inbox, on_commit=on_commit)
        self._recorded: list[E] = []

    def open(self, session: Session) -> None:
        """Build the repositories on the transaction's session."""
        raise NotImplementedError

    def persist(self) -> list[E]:
        """Buffer the aggregates' changes; the events they recorded, in order."""
        return []

    def to_message(self, event: E) -> Outgoing:
        raise NotImplementedError

    def context_of(self, event: E) -> MessageContext | None:
        """The context the message of `event` carries when it is not the unit of work's (None): for a
        unit of work that serves several requests at once, each request's own."""
        return None

    def record(self, event: E) -> None:
        """An event no aggregate records (a ledger row), sent with the commit."""
        self._recorded.append(event)

    async def claim_all(self, entries: Sequence[InboxEntry]) -> list[bool]:
        """Claim the messages this unit of work handles together (one opened without an inbox entry):
        for each, whether it is claimed now; False when it was processed already (it must have no
        effect). The claims are undone with everything else when the unit of work does not commit."""
        return await self._tx.claim_all(entries)

    def mark_processed(self, entry: InboxEntry) -> None:
        """The message `entry` names is done, as of this unit of work's commit."""
        self._tx.mark_processed(entry)

    async def commit(self) -> None:
        events = [*self._recorded, *self.persist()]
        self._recorded.clear()
        await self._tx.commit((self.to_message(e), self.context_of(e)) for e in events)

    async def __aenter__(self) -> Self:
        await self._tx.__aenter__()
        self.open(self._tx.session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._tx.__aexit__(exc_type, exc, tb)

    @classmethod
    def factory(cls, pool: asyncpg.Pool, *, on_commit: OnCommit) -> Callable[[MessageContext, InboxEntry | None], Self]:
        """`(context, inbox) -> unit of work` on `pool`, handing the relay the rows of each commit that sends."""
        return functools.partial(cls, pool, on_commit=on_commit)
