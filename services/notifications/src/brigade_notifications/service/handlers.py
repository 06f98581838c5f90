"""The use cases, `verb_noun(cmd, uow, deps)`: each runs in one unit of work.

A notice that is e-mailed is queued as mail in the same transaction as the notification, so the
consumer that handles an event never waits on SMTP and the mail cannot be lost or doubled: the
sender (service/sender.py) delivers it. A stored notification, and notifications read, are events
sent through the outbox with the same commit (the live feed relays them to their user), each with
the user's unread count: the use case holds the user's notifications first, so the counts follow
the order the events are sent in. A use case that finds nothing to do still commits, so the
message it handles is recorded in the inbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from brigade_notifications.domain import rules
from brigade_notifications.domain.errors import UnknownMail, UnknownNotification
from brigade_notifications.domain.events import NotificationCreated, NotificationsRead
from brigade_notifications.domain.mail import Mail, message_id
from brigade_notifications.domain.model import Notice, Notification
from brigade_notifications.service import commands as c
from brigade_notifications.service.ports import Clock, IdSource, MailRenderer, NotificationsUnitOfWork


@dataclass(frozen=True)
class Deps:
    """What the use cases need besides their unit of work."""

    clock: Clock
    new_id: IdSource
    renderer: MailRenderer
    mail_domain: str


async def _deliver(notices: Iterable[Notice], uow: NotificationsUnitOfWork, deps: Deps) -> int:
    """Store each notice for its user and queue the e-mail of those that are e-mailed; how many
    were new (a notice from a source the user has one from already is skipped, mail, event and all)."""
    # Users in one order, so two deliveries to many users (new dishes for staff) never wait on each other.
    notices = sorted(notices, key=lambda n: n.user_id)
    for user_id in dict.fromkeys(n.user_id for n in notices):
        await uow.notifications.hold(user_id)
    new = 0
    for notice in notices:
        notification = Notification(
            deps.new_id(), notice.user_id, notice.kind, notice.title, notice.body, notice.facts, notice.occurred_at
        )
        if not await uow.notifications.add(notification, notice.source):
            continue
        new += 1
        uow.record(NotificationCreated(notification, await uow.notifications.unread(notice.user_id)))
        if not notice.emailed:
            continue
        user = await uow.users.lock(notice.user_id)
        rendered = deps.renderer.render(notice, user.display_name)
        mail = Mail(
            deps.new_id(),
            message_id(notice.source, notice.user_id, deps.mail_domain),
            notice.user_id,
            user.email,
            notice.title,
            rendered.text,
            rendered.html,
            created_at=deps.clock(),
            next_attempt_at=deps.clock(),
        )
        uow.mail.add(mail, notification.id)
    return new


async def record_registration(cmd: c.RecordRegistration, uow: NotificationsUnitOfWork, deps: Deps) -> None:
    """A new user: into the replica, a welcome, and their address on any mail that waited for it."""
    async with uow:
        await uow.notifications.hold(cmd.user.user_id)  # before the user's row, as every delivery does
        await uow.users.register(cmd.user, cmd.at)
        await uow.mail.address(cmd.user.user_id, cmd.user.email)
        await _deliver([rules.welcome(cmd.user, cmd.at)], uow, deps)
        await uow.commit()


async def record_roles_change(cmd: c.RecordRolesChange, uow: NotificationsUnitOfWork, deps: Deps) -> None:
    async with uow:
        await uow.users.set_roles(cmd.change.user_id, cmd.change.roles, cmd.at)
        await uow.commit()


async def notify_order_change(cmd: c.NotifyOrderChange, uow: NotificationsUnitOfWork, deps: Deps) -> None:
    async with uow:
        await _deliver([rules.order_changed(cmd.order, cmd.at)], uow, deps)
        await uow.commit()


_PAYMENT_NOTICES = {
    c.PaymentOutcome.SUCCEEDED: rules.receipt,
    c.PaymentOutcome.FAILED: rules.declined,
    c.PaymentOutcome.REFUNDED: rules.refunded,
}


async def notify_payment(cmd: c.NotifyPayment, uow: NotificationsUnitOfWork, deps: Deps) -> None:
    async with uow:
        await _deliver([_PAYMENT_NOTICES[cmd.outcome](cmd.payment, cmd.at)], uow, deps)
        await uow.commit()


async def notify_dish_added(cmd: c.NotifyDishAdded, uow: NotificationsUnitOfWork, deps: Deps) -> None:
    """Every staff member known now hears of the new dish."""
    async with uow:
        await _deliver(rules.dish_added(cmd.dish, await uow.users.staff(), cmd.at), uow, deps)
        await uow.commit()


async def mark_read(cmd: c.MarkRead, uow: NotificationsUnitOfWork, deps: Deps) -> Notification:
    """Read once is read: marking it again changes nothing and sends nothing."""
    async with uow:
        await uow.notifications.hold(cmd.user_id)
        found = await uow.notifications.mark_read(cmd.user_id, cmd.notification_id, deps.clock())
        if found is None:
            raise UnknownNotification(cmd.notification_id)
        if found.newly:
            unread = await uow.notifications.unread(cmd.user_id)
            uow.record(NotificationsRead(cmd.user_id, (found.notification.id,), everything=False, unread=unread))
        await uow.commit()
    return found.notification


async def mark_all_read(cmd: c.MarkAllRead, uow: NotificationsUnitOfWork, deps: Deps) -> int:
    async with uow:
        await uow.notifications.hold(cmd.user_id)
        marked = await uow.notifications.mark_all_read(cmd.user_id, deps.clock())
        if marked:
            unread = await uow.notifications.unread(cmd.user_id)
            uow.record(NotificationsRead(cmd.user_id, (), everything=True, unread=unread))
        await uow.commit()
    return marked


async def retry_mail(cmd: c.RetryMail, uow: NotificationsUnitOfWork, deps: Deps) -> Mail:
    """Staff send a failed mail again (after fixing what made it fail)."""
    async with uow:
        mail = await uow.mail.get(cmd.mail_id)
        if mail is None:
            raise UnknownMail(cmd.mail_id)
        mail.retry(deps.clock())
        uow.mail.save([mail])
        await uow.commit()
    return mail


Handler = Callable[[Any, NotificationsUnitOfWork, Deps], Awaitable[Any]]

HANDLERS: Mapping[type, Handler] = {
    c.RecordRegistration: record_registration,
    c.RecordRolesChange: record_roles_change,
    c.NotifyOrderChange: notify_order_change,
    c.NotifyPayment: notify_payment,
    c.NotifyDishAdded: notify_dish_added,
    c.MarkRead: mark_read,
    c.MarkAllRead: mark_all_read,
    c.RetryMail: retry_mail,
}
