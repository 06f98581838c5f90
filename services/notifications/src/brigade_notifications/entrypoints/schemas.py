"""The HTTP models: what the API reads and answers (mapped from the model here only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from brigade_common.pagination import TimePageQuery
from brigade_notifications.domain.mail import Mail, MailStatus
from brigade_notifications.domain.model import Kind, Notification


class NotificationPath(BaseModel):
    notification_id: uuid.UUID


class MailPath(BaseModel):
    mail_id: uuid.UUID


class NotificationOut(BaseModel):
    id: str
    kind: Kind
    title: str
    body: str
    data: dict[str, str | int | None] = Field(description="What the notification is about (order, payment, dish ids …)")
    created_at: datetime
    read_at: datetime | None = Field(description="When its owner marked it read; null while unread")

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(
            id=n.id,
            kind=n.kind,
            title=n.title,
            body=n.body,
            data=dict(n.facts),
            created_at=n.created_at,
            read_at=n.read_at,
        )


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")
    unread: int = Field(ge=0, description="How many of all my notifications are unread")


class ReadAllOut(BaseModel):
    marked: int = Field(ge=0, description="How many were unread until now")
    unread: int = Field(ge=0)


class MailQuery(TimePageQuery):
    status: MailStatus | None = Field(
        default=None, description="Only mail in this state: `failed` lists the given-up ones"
    )


class MailOut(BaseModel):
    """A mail of the queue; `sent` ones are the sent-mail log. No body: the notification has the text."""

    id: str
    message_id: str
    user_id: str
    to: str | None = Field(description="null while the recipient's address is not known yet")
    subject: str
    status: MailStatus
    attempts: int = Field(ge=0)
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, m: Mail) -> MailOut:
        return cls(
            id=m.id,
            message_id=m.message_id,
            user_id=m.user_id,
            to=m.to_address,
            subject=m.subject,
            status=m.status,
            attempts=m.attempts,
            next_attempt_at=m.next_attempt_at,
            last_error=m.last_error,
            created_at=m.created_at,
            sent_at=m.sent_at,
        )


class MailPage(BaseModel):
    items: list[MailOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")
