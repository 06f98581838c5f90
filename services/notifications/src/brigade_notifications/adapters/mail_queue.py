"""The mail queue in PostgreSQL (`mail`): queued, sent (the sent-mail log) and failed mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from brigade_common.db import is_uuid
from brigade_common.writes import Session, Table
from brigade_notifications.domain.mail import Mail, MailStatus

MAIL = Table.of(
    "mail",
    ("id", "uuid"),
    ("message_id", "text"),
    ("notification_id", "uuid"),
    ("user_id", "text"),
    ("to_address", "text"),
    ("subject", "text"),
    ("text_body", "text"),
    ("html_body", "text"),
    ("status", "text"),
    ("next_attempt_at", "timestamptz"),
    ("created_at", "timestamptz"),
    # A cause handled twice (a replay under a new envelope id) finds its mail queued already.
    conflict="ON CONFLICT (message_id) DO NOTHING",
)
MAIL_STATE = Table.of(
    "mail",
    ("id", "uuid"),
    ("status", "text"),
    ("attempts", "int"),
    ("next_attempt_at", "timestamptz"),
    ("last_error", "text"),
    ("sent_at", "timestamptz"),
    key="id",
)
COLUMNS = (
    "id::text AS id, message_id, user_id, to_address, subject, text_body, html_body, created_at, status, attempts, "
    "next_attempt_at, last_error, sent_at"
)
NO_ADDRESS = "no e-mail address is known for the recipient"


def mail_of(row: Any) -> Mail:
    return Mail(
        row["id"],
        row["message_id"],
        row["user_id"],
        row["to_address"],
        row["subject"],
        row["text_body"],
        row["html_body"],
        row["created_at"],
        MailStatus(row["status"]),
        row["attempts"],
        row["next_attempt_at"],
        row["last_error"],
        row["sent_at"],
    )


class PostgresMailQueue:
    def __init__(self, session: Session) -> None:
        self._session = session
        self.queued = 0

    def add(self, mail: Mail, notification_id: str) -> None:
        self._session.buffer.insert(
            MAIL,
            (
                mail.id,
                mail.message_id,
                notification_id,
                mail.user_id,
                mail.to_address,
                mail.subject,
                mail.text,
                mail.html,
                mail.status.value,
                mail.next_attempt_at,
                mail.created_at,
            ),
        )
        self.queued += 1

    async def address(self, user_id: str, email: str) -> int:
        status = await self._session.execute(
            "UPDATE mail SET to_address = $2 WHERE user_id = $1 AND status = 'queued' AND to_address IS NULL",
            user_id,
            email,
        )
        found = int(status.split()[-1])
        self.queued += found
        return found

    async def due(self, now: datetime, limit: int) -> list[Mail]:
        rows = await self._session.fetch(
            f"SELECT {COLUMNS} FROM mail WHERE status = 'queued' AND to_address IS NOT NULL "  # noqa: S608
            "AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        return [mail_of(r) for r in rows]

    async def get(self, mail_id: str) -> Mail | None:
        if not is_uuid(mail_id):
            return None
        row = await self._session.fetchrow(f"SELECT {COLUMNS} FROM mail WHERE id = $1::uuid FOR UPDATE", mail_id)  # noqa: S608
        return mail_of(row) if row else None

    def save(self, mails: Sequence[Mail]) -> None:
        for m in mails:
            self._session.buffer.update(
                MAIL_STATE, (m.id, m.status.value, m.attempts, m.next_attempt_at, m.last_error, m.sent_at)
            )
        self.queued += sum(m.status is MailStatus.QUEUED for m in mails)

    async def give_up_unaddressed(self, created_before: datetime, now: datetime) -> int:
        status = await self._session.execute(
            "UPDATE mail SET status = 'failed', next_attempt_at = NULL, last_error = $2 "
            "WHERE status = 'queued' AND to_address IS NULL AND created_at < $1",
            created_before,
            NO_ADDRESS,
        )
        return int(status.split()[-1])
