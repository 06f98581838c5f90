"""What happens to a user's notifications, as the use cases record it. Mapped to wire messages at
the edge (adapters/messages.py); nothing here knows a subject or an envelope."""

from __future__ import annotations

from dataclasses import dataclass

from brigade_notifications.domain.model import Notification


class Event:
    """Base of the notifications service's events."""


@dataclass(frozen=True)
class NotificationCreated(Event):
    """`notification` was stored; its user has `unread` unread ones now."""

    notification: Notification
    unread: int


@dataclass(frozen=True)
class NotificationsRead(Event):
    """The user read `notification_ids`, or (`everything`) every notification they had; `unread` left."""

    user_id: str
    notification_ids: tuple[str, ...]
    everything: bool
    unread: int
