"""Notifications in PostgreSQL (`notifications`): one per cause and user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from brigade_common.db import is_uuid
from brigade_common.writes import Session
from brigade_notifications.domain.model import Kind, Notification

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

    async def mark_read(self, user_id: str, notification_id: str, at: datetime) -> Notification | None:
        if not is_uuid(notification_id):
            return None
        row = await self._session.fetchrow(
            f"UPDATE notifications SET read_at = coalesce(read_at, $3) WHERE id = $2::uuid AND user_id = $1 "  # noqa: S608
            f"RETURNING {COLUMNS}",
            user_id,
            notification_id,
            at,
        )
        return notification_of(row) if row else None

    async def mark_all_read(self, user_id: str, at: datetime) -> int:
        status = await self._session.execute(
            "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL", user_id, at
        )
        return int(status.split()[-1])
