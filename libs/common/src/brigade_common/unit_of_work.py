"""The transaction under every service's unit of work: one connection, the write buffer, outbox, inbox.

A service's unit of work (its `adapters/unit_of_work.py`) composes a `Transaction`: it opens one,
builds its repositories on `Transaction.session`, and at commit hands over the messages its events
become. The `Transaction` then, in this order: buffers the outbox rows, flushes every buffered write
in one statement, commits, and wakes the outbox relay. Leaving without a commit rolls back, so a
failed use case leaves nothing behind, outbox rows included.

The inbox makes a consumer idempotent. A handler's transaction claims its message first
(`claim_inbox`): a message already processed raises `AlreadyProcessed`, which the consumer runner
acknowledges without effect. Work spread over several transactions instead marks the message
processed in its last one (`mark_processed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

import asyncpg

from brigade_common.messaging import AlreadyProcessed, InboxEntry, MessageContext, Outgoing
from brigade_common.outbox import OUTBOX, outbox_row
from brigade_common.writes import Session, Table

INBOX_DDL = """
CREATE TABLE inbox (
    consumer     text NOT NULL,
    message_id   text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
"""
INBOX = Table.of("inbox", ("consumer", "text"), ("message_id", "text"), conflict="ON CONFLICT DO NOTHING")


class Transaction:
    """One connection, one transaction, one write buffer (`session`), the outbox and the inbox."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        context: MessageContext,
        inbox: InboxEntry | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.context = context
        self._pool = pool
        self._inbox = inbox
        self._on_commit = on_commit
        self._conn: asyncpg.Connection | None = None
        self._tx: Any = None
        self._session: Session | None = None
        self._committed = False
        self._sent = False

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

    def mark_processed(self, entry: InboxEntry) -> None:
        """Record `entry` in the inbox with this transaction's writes (the last step of long work)."""
        self.session.buffer.insert(INBOX, (entry.consumer, entry.message_id))

    async def commit(self, messages: Iterable[Outgoing] = ()) -> None:
        """Queue `messages` in the outbox, flush every buffered write, commit."""
        for message in messages:
            row = outbox_row(message.envelope(self.context), message.subject, message.headers)
            self.session.buffer.insert(OUTBOX, row)
            self._sent = True
        await self.session.flush()
        await self._tx.commit()
        self._committed = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._close()
        if self._committed and self._sent and self._on_commit is not None:
            self._on_commit()

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not self._committed and self._tx is not None:
                await self._tx.rollback()
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            # The connection broke (the reason we are leaving, often): the transaction is aborted
            # either way, and release() discards a broken connection.
            pass
        finally:
            await self._pool.release(conn)
