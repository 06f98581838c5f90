"""Messages owned by the notifications context: a user's notification stored, notifications read.

Each carries its user's unread count as of the change, so a client shows the count the event
brings without asking. Neither carries an e-mail address (the mail queue keeps those) nor
anything secret: the live feed relays them to their owner's browser as they are.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from brigade_contracts._base import Message

NOTIFICATION_CREATED = "notifications.notification.created.v1"
NOTIFICATIONS_READ = "notifications.notification.read.v1"
NOTIFICATION_EVENTS = "notifications.notification.*.v1"


class NotificationCreated(Message):
    """A notification was stored for its user (once per cause and user: a redelivered cause makes
    no second one, and no second event)."""

    notification_id: str
    user_id: str
    kind: str
    title: str
    body: str
    data: dict[str, str | int | None]
    created_at: datetime
    unread: int = Field(ge=0)


class NotificationsRead(Message):
    """A user marked one notification read, or all of them (`all`: every notification of theirs
    created before this event; `notification_ids` is then empty)."""

    user_id: str
    notification_ids: list[str]
    all: bool = False
    unread: int = Field(ge=0)
