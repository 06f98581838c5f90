"""The read side on PostgreSQL: what the HTTP API shows, read on the pool, no transaction."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from brigade_common.db import Reads
from brigade_notifications.adapters import mail_queue, notifications
from brigade_notifications.domain.mail import Mail, MailStatus
from brigade_notifications.service.ports import Page

_PAGE = "($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))"


class PostgresNotificationViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._reads = Reads(pool)

    async def notifications_of(self, user_id: str, *, before: tuple[datetime, str] | None, limit: int) -> Page:
        async with self._reads.snapshot() as conn:
            # One snapshot: the unread count agrees with the page.
            rows = await conn.fetch(
                f"SELECT {notifications.COLUMNS} FROM notifications WHERE user_id = $1 AND {_PAGE} "  # noqa: S608
                "ORDER BY created_at DESC, id DESC LIMIT $4",
                user_id,
                before[0] if before else None,
                before[1] if before else None,
                limit,
            )
            unread = await conn.fetchval(
                "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", user_id
            )
        return Page([notifications.notification_of(r) for r in rows], int(unread))

    async def mail_log(
        self, status: MailStatus | None, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[Mail]:
        rows = await self._reads.fetch(
            f"SELECT {mail_queue.COLUMNS} FROM mail WHERE ($1::text IS NULL OR status = $1) AND {_PAGE} "  # noqa: S608
            "ORDER BY created_at DESC, id DESC LIMIT $4",
            status.value if status else None,
            before[0] if before else None,
            before[1] if before else None,
            limit,
        )
        return [mail_queue.mail_of(r) for r in rows]
