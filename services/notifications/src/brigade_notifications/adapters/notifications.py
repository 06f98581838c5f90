"""Notifications in PostgreSQL (`notifications`): one per cause and user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from brigade_common.db import is_uuid
from brigade_common.writes import Session
from brigade_notifications.domain.model import Kind, Notification
from brigade_notifications.service.ports import Marked

COLUMNS = "id::text AS id, user_id, kind, title, body, facts, created_at, read_at"


def notification_of(row: Any) -> Notification:
    return Notification(
        row["id"],
        row["user_id"],
        Kind(row["kind"]),
        row["title"],
        row["body"],
        row["facts"],
        row["created_at"],
        row["read_at"],
    )


class PostgresNotifications:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, notification: Notification, source: str) -> bool:
        n = notification
        inserted = await self._session.fetchval(
            "INSERT INTO notifications (id, user_id, kind, source, title, body, facts, created_at) "
            "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::jsonb, $8) "
            "ON CONFLICT (user_id, source) DO NOTHING RETURNING true",
            n.id,
            n.user_id,
            n.kind.value,
            source,
            n.title,
            n.body,
            dict(n.facts),
            n.created_at,
        )
        return bool(inserted)

    async def hold(self, user_id: str) -> None:
        # A transaction-scoped advisory lock per user: the changes of one user's notifications, and
        # the outbox rows they write, then commit one after another.
        await self._session.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('notifications.user:' || $1, 0))", user_id
        )

    async def unread(self, user_id: str) -> int:
        count: int = await self._session.fetchval(
            "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", user_id
        )
        return count

    async def mark_read(self, user_id: str, notification_id: str, at: datetime) -> Marked | None:
        if not is_uuid(notification_id):
            return None
        row = await self._session.fetchrow(
            f"UPDATE notifications SET read_at = $3 WHERE id = $2::uuid AND user_id = $1 AND read_at IS NULL "  # noqa: S608
            f"RETURNING {COLUMNS}",
            user_id,
            notification_id,
            at,
        )
        if row is not None:
            return Marked(notification_of(row), newly=True)
        row = await self._session.fetchrow(
            f"SELECT {COLUMNS} FROM notifications WHERE id = $2::uuid AND user_id = $1",  # noqa: S608
            user_id,
            notification_id,
        )
        return Marked(notification_of(row), newly=False) if row else None

    async def mark_all_read(self, user_id: str, at: datetime) -> int:
        status = await self._session.execute(
            "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL", user_id, at
        )
        return int(status.split()[-1])
