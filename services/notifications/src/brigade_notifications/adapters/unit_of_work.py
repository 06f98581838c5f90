"""The service's unit of work on PostgreSQL: its repositories on one transaction (brigade_common's
`UnitOfWork`: write buffer, outbox, inbox), the messages its events become, and the sender woken
after a commit that queued mail."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from brigade_common.messaging import InboxEntry, MessageContext, Outgoing
from brigade_common.unit_of_work import OnCommit, UnitOfWork
from brigade_common.writes import Session
from brigade_notifications.adapters.mail_queue import PostgresMailQueue
from brigade_notifications.adapters.messages import outgoing
from brigade_notifications.adapters.notifications import PostgresNotifications
from brigade_notifications.adapters.users import PostgresUsers
from brigade_notifications.domain.events import Event


def _nothing() -> None:
    pass


class PostgresNotificationsUnitOfWork(UnitOfWork[Event]):
    users: PostgresUsers
    notifications: PostgresNotifications
    mail: PostgresMailQueue

    def __init__(
        self,
        pool: asyncpg.Pool,
        context: MessageContext,
        inbox: InboxEntry | None = None,
        *,
        on_mail: Callable[[], None] = _nothing,
        on_commit: OnCommit | None = None,
    ) -> None:
        super().__init__(pool, context, inbox, on_commit=on_commit)
        self._on_mail = on_mail

    def open(self, session: Session) -> None:
        self.users = PostgresUsers(session)
        self.notifications = PostgresNotifications(session)
        self.mail = PostgresMailQueue(session)

    def to_message(self, event: Event) -> Outgoing:
        return outgoing(event)

    async def commit(self) -> None:
        await super().commit()
        if self.mail.queued:
            self._on_mail()

    @classmethod
    def on(
        cls,
        pool: asyncpg.Pool,
        on_mail: Callable[[], None] = _nothing,
        on_commit: OnCommit | None = None,
    ) -> Callable[[MessageContext, InboxEntry | None], PostgresNotificationsUnitOfWork]:
        """`(context, inbox) -> unit of work` on `pool`, calling `on_mail` after a commit that queued
        mail and `on_commit` (the outbox relay's wake-up) after one that sent messages."""

        def make(context: MessageContext, inbox: InboxEntry | None) -> PostgresNotificationsUnitOfWork:
            return cls(pool, context, inbox, on_mail=on_mail, on_commit=on_commit)

        return make
