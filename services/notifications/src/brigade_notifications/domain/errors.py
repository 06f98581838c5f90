"""The notifications service's errors: one hierarchy, mapped to HTTP and to ack/nak/term in one place each."""

from __future__ import annotations


class NotificationsError(Exception):
    """Base of the service's errors."""


class UnknownNotification(NotificationsError):
    """No such notification for this user (someone else's is unknown too: never a 403)."""

    def __init__(self, notification_id: str) -> None:
        super().__init__(f"no notification with id {notification_id!r}")
        self.notification_id = notification_id


class UnknownMail(NotificationsError):
    def __init__(self, mail_id: str) -> None:
        super().__init__(f"no mail with id {mail_id!r}")
        self.mail_id = mail_id


class MailNotFailed(NotificationsError):
    """Only a mail that was given up on can be sent again by hand."""

    def __init__(self, mail_id: str, status: str) -> None:
        super().__init__(f"mail {mail_id} is {status}: only failed mail can be retried")
        self.mail_id = mail_id
        self.status = status
