"""The use cases against fakes: what each event leaves for whom, and what a repeat leaves (nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brigade_common.messaging import AlreadyProcessed, InboxEntry
from brigade_contracts.auth import Role
from brigade_contracts.kitchen import OrderStatus
from brigade_notifications.domain.errors import UnknownNotification
from brigade_notifications.domain.events import NotificationCreated, NotificationsRead
from brigade_notifications.domain.facts import NewDish, OrderChange, Payment, Registration, RolesChange
from brigade_notifications.domain.mail import MailStatus
from brigade_notifications.domain.model import Kind
from brigade_notifications.service import commands as c
from brigade_notifications.service import handlers as h
from services.notifications.tests.unit.fakes import FakeDb, deps

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ANA = Registration("ana", "ana@example.com", "Ana", frozenset({Role.CUSTOMER}))


def reserved(version: int = 2) -> c.NotifyOrderChange:
    return c.NotifyOrderChange(OrderChange("o-1", "ana", "Pan simple", 1, 500, OrderStatus.RESERVED, version), AT)


async def test_a_sign_up_stores_the_user_a_welcome_and_its_mail_to_their_address() -> None:
    db, d = FakeDb(), deps()
    await h.record_registration(c.RecordRegistration(ANA, AT), db.uow(), d)
    (welcome,) = db.state.of("ana")
    (mail,) = db.state.mail_to("ana")
    assert welcome.kind is Kind.WELCOME and welcome.read_at is None
    assert (mail.to_address, mail.subject, mail.status) == ("ana@example.com", welcome.title, MailStatus.QUEUED)
    assert "Hello Ana," in mail.text


async def test_a_redelivered_event_is_refused_by_the_inbox_and_changes_nothing() -> None:
    db, d = FakeDb(), deps()
    entry = InboxEntry("notifications-orders", "env-1")
    await h.notify_order_change(reserved(), db.uow(inbox=entry), d)
    before = (dict(db.state.notifications), dict(db.state.mail))
    with pytest.raises(AlreadyProcessed):
        await h.notify_order_change(reserved(), db.uow(inbox=entry), d)
    assert (db.state.notifications, db.state.mail) == before


async def test_the_same_cause_under_another_envelope_id_makes_no_second_notification_or_mail() -> None:
    """Seed 004's bug: a replay with a new event id was processed twice downstream."""
    db, d = FakeDb(), deps()
    await h.notify_order_change(reserved(), db.uow(inbox=InboxEntry("n", "first")), d)
    await h.notify_order_change(reserved(), db.uow(inbox=InboxEntry("n", "replayed")), d)
    await h.notify_order_change(reserved(version=3), db.uow(inbox=InboxEntry("n", "next")), d)
    assert len(db.state.of("ana")) == 2
    assert len(db.state.mail_to("ana")) == 2


async def test_an_order_of_a_user_not_heard_of_yet_is_stored_and_its_mail_waits_for_the_address() -> None:
    db, d = FakeDb(), deps()
    await h.notify_order_change(reserved(), db.uow(), d)
    (waiting,) = db.state.mail_to("ana")
    assert waiting.to_address is None and "Hello," in waiting.text
    await h.record_registration(c.RecordRegistration(ANA, AT), db.uow(), d)
    assert {m.to_address for m in db.state.mail_to("ana")} == {"ana@example.com"}


async def test_in_app_only_kinds_queue_no_mail() -> None:
    db, d = FakeDb(), deps()
    placed = OrderChange("o-1", "ana", "Pan simple", 1, 500, OrderStatus.PENDING, 1)
    await h.notify_order_change(c.NotifyOrderChange(placed, AT), db.uow(), d)
    declined = Payment("p-1", "o-1", "ana", 500, "card declined")
    await h.notify_payment(c.NotifyPayment(declined, c.PaymentOutcome.FAILED, AT), db.uow(), d)
    assert [n.kind for n in db.state.of("ana")] == [Kind.ORDER_PLACED, Kind.PAYMENT_DECLINED]
    assert db.state.mail_to("ana") == []


async def test_a_new_dish_reaches_every_staff_member_known_at_the_time() -> None:
    db, d = FakeDb(), deps()
    for user_id, roles in (("chef", {Role.STAFF}), ("ana", {Role.CUSTOMER}), ("sous", {Role.CUSTOMER})):
        reg = Registration(user_id, f"{user_id}@example.com", user_id.title(), frozenset(roles))
        await h.record_registration(c.RecordRegistration(reg, AT), db.uow(), d)
    await h.record_roles_change(c.RecordRolesChange(RolesChange("sous", frozenset({Role.STAFF})), AT), db.uow(), d)
    await h.notify_dish_added(c.NotifyDishAdded(NewDish("arepa", "Arepa", "", 350), AT), db.uow(), d)
    told = sorted(n.user_id for n in db.state.notifications.values() if n.kind is Kind.DISH_ADDED)
    assert told == ["chef", "sous"]
    assert sorted(m.to_address or "" for m in db.state.mail.values() if m.subject == "New dish: Arepa") == [
        "chef@example.com",
        "sous@example.com",
    ]


async def test_a_role_change_heard_before_the_sign_up_is_not_undone_by_it() -> None:
    db, d = FakeDb(), deps()
    promoted = c.RecordRolesChange(RolesChange("ana", frozenset({Role.STAFF})), AT + timedelta(seconds=5))
    await h.record_roles_change(promoted, db.uow(), d)
    await h.record_registration(c.RecordRegistration(ANA, AT), db.uow(), d)
    user = db.state.users["ana"]
    assert (user.email, user.roles) == ("ana@example.com", frozenset({Role.STAFF}))


async def test_a_user_reads_their_own_notifications_and_someone_elses_is_unknown() -> None:
    db, d = FakeDb(), deps()
    await h.notify_order_change(reserved(2), db.uow(), d)
    await h.notify_order_change(reserved(3), db.uow(), d)
    first = db.state.of("ana")[0]
    with pytest.raises(UnknownNotification):
        await h.mark_read(c.MarkRead("bob", first.id), db.uow(), d)
    read = await h.mark_read(c.MarkRead("ana", first.id), db.uow(), d)
    again = await h.mark_read(c.MarkRead("ana", first.id), db.uow(), d)
    assert read.read_at is not None and again.read_at == read.read_at
    assert await h.mark_all_read(c.MarkAllRead("ana"), db.uow(), d) == 1
    assert await h.mark_all_read(c.MarkAllRead("ana"), db.uow(), d) == 0


async def test_each_stored_notification_is_sent_once_with_its_users_unread_count() -> None:
    db, d = FakeDb(), deps()
    await h.notify_order_change(reserved(2), db.uow(inbox=InboxEntry("n", "first")), d)
    await h.notify_order_change(reserved(2), db.uow(inbox=InboxEntry("n", "replayed")), d)  # same cause
    with pytest.raises(AlreadyProcessed):
        await h.notify_order_change(reserved(2), db.uow(inbox=InboxEntry("n", "first")), d)
    await h.notify_order_change(reserved(3), db.uow(), d)
    sent = db.state.sent
    assert all(isinstance(e, NotificationCreated) for e in sent)
    assert [(e.notification.id, e.unread) for e in sent] == [(n.id, i) for i, n in enumerate(db.state.of("ana"), 1)]


async def test_a_new_dish_sends_one_event_per_staff_member_each_with_their_own_count() -> None:
    db, d = FakeDb(), deps()
    for name in ("zoe", "chef"):
        await h.record_roles_change(c.RecordRolesChange(RolesChange(name, frozenset({Role.STAFF})), AT), db.uow(), d)
    await h.notify_dish_added(c.NotifyDishAdded(NewDish("pan", "Pan", "", 350), AT), db.uow(), d)
    assert [(e.notification.user_id, e.unread) for e in db.state.sent if isinstance(e, NotificationCreated)] == [
        ("chef", 1),
        ("zoe", 1),
    ]


async def test_reading_sends_what_was_read_and_the_count_left_and_reading_again_sends_nothing() -> None:
    db, d = FakeDb(), deps()
    for version in (2, 3, 4):
        await h.notify_order_change(reserved(version), db.uow(), d)
    first = db.state.of("ana")[0]
    created = len(db.state.sent)
    await h.mark_read(c.MarkRead("ana", first.id), db.uow(), d)
    await h.mark_read(c.MarkRead("ana", first.id), db.uow(), d)
    await h.mark_all_read(c.MarkAllRead("ana"), db.uow(), d)
    await h.mark_all_read(c.MarkAllRead("ana"), db.uow(), d)
    assert db.state.sent[created:] == [
        NotificationsRead("ana", (first.id,), everything=False, unread=2),
        NotificationsRead("ana", (), everything=True, unread=0),
    ]
