"""The service's events as the messages other services (the live feed) read: the wire contracts,
mapped here only."""

from __future__ import annotations

from brigade_common.messaging import Outgoing
from brigade_contracts import notifications as n
from brigade_notifications.domain.events import Event, NotificationCreated, NotificationsRead


def outgoing(event: Event) -> Outgoing:
    """The message `event` becomes. What it carries is what its user's own `GET /notifications`
    shows, never their e-mail address."""
    match event:
        case NotificationCreated(notification=created, unread=unread):
            return Outgoing(
                n.NOTIFICATION_CREATED,
                n.NotificationCreated(
                    notification_id=created.id,
                    user_id=created.user_id,
                    kind=created.kind.value,
                    title=created.title,
                    body=created.body,
                    data=dict(created.facts),
                    created_at=created.created_at,
                    unread=unread,
                ),
            )
        case NotificationsRead():
            return Outgoing(
                n.NOTIFICATIONS_READ,
                n.NotificationsRead(
                    user_id=event.user_id,
                    notification_ids=list(event.notification_ids),
                    all=event.everything,
                    unread=event.unread,
                ),
            )
    raise TypeError(f"no message for {type(event).__name__}")
