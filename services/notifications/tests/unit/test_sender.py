"""The sender against a fake queue and SMTP server: SMTP down or refusing, the mail waits, is
retried after its back-off, is sent once when the server returns, or is given up on."""

from __future__ import annotations

from datetime import UTC, datetime

from brigade_contracts.kitchen import OrderStatus
from brigade_notifications.domain.facts import OrderChange, Registration
from brigade_notifications.domain.mail import MailStatus, Outcome, RetryPolicy
from brigade_notifications.service import commands as c
from brigade_notifications.service import handlers as h
from brigade_notifications.service.sender import MailSender, Round, SenderOptions
from services.notifications.tests.unit.fakes import FakeClock, FakeDb, ScriptedMailer, deps

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OPTIONS = SenderOptions(RetryPolicy(3, 10, 60), batch=2, connections=2, lease_s=300, address_wait_s=3600)


async def queued(db: FakeDb, clock: FakeClock, orders: int) -> None:
    d = deps(clock)
    reg = Registration("ana", "ana@example.com", "Ana", frozenset())
    await h.record_registration(c.RecordRegistration(reg, AT), db.uow(), d)
    for v in range(2, 2 + orders - 1):
        order = OrderChange("o", "ana", "Pan", 1, 100, OrderStatus.RESERVED, v)
        await h.notify_order_change(c.NotifyOrderChange(order, AT), db.uow(), d)


def sender(db: FakeDb, mailer: ScriptedMailer, clock: FakeClock) -> MailSender:
    return MailSender(db.uow, mailer, clock=clock, options=OPTIONS)


async def test_everything_due_goes_out_in_rounds_and_is_never_sent_twice() -> None:
    db, clock, mailer = FakeDb(), FakeClock(), ScriptedMailer()
    await queued(db, clock, orders=5)
    assert await sender(db, mailer, clock).deliver_due() == Round(sent=5)
    assert await sender(db, mailer, clock).deliver_due() == Round()
    assert len(mailer.delivered) == 5
    assert {m.status for m in db.state.mail.values()} == {MailStatus.SENT}


async def test_with_smtp_down_mail_waits_its_back_off_and_goes_out_once_smtp_is_back() -> None:
    db, clock, mailer = FakeDb(), FakeClock(), ScriptedMailer()
    await queued(db, clock, orders=1)
    send = sender(db, mailer, clock)
    mailer.outcome = Outcome.RETRY
    assert await send.deliver_due() == Round(retrying=1)
    mailer.outcome = Outcome.SENT
    assert await send.deliver_due() == Round(), "not due before its back-off"
    clock.advance(10)
    assert await send.deliver_due() == Round(sent=1)
    (mail,) = db.state.mail.values()
    assert (mail.status, mail.attempts, len(mailer.delivered)) == (MailStatus.SENT, 2, 1)


async def test_after_its_last_attempt_a_mail_is_given_up_on_and_not_tried_again() -> None:
    db, clock, mailer = FakeDb(), FakeClock(), ScriptedMailer()
    await queued(db, clock, orders=1)
    send = sender(db, mailer, clock)
    mailer.outcome = Outcome.RETRY
    for wait in (0, 10, 20):
        clock.advance(wait)
        await send.deliver_due()
    (mail,) = db.state.mail.values()
    assert (mail.status, mail.attempts, mail.last_error) == (MailStatus.FAILED, 3, "421 try again later")
    clock.advance(3600)
    assert await send.deliver_due() == Round()
    assert mailer.attempts == 3


async def test_a_refused_mail_is_failed_at_once() -> None:
    db, clock, mailer = FakeDb(), FakeClock(), ScriptedMailer()
    await queued(db, clock, orders=1)
    mailer.outcome = Outcome.REFUSED
    assert await sender(db, mailer, clock).deliver_due() == Round(failed=1)


async def test_mail_that_never_got_an_address_is_given_up_on_after_the_wait() -> None:
    db, clock, mailer = FakeDb(), FakeClock(), ScriptedMailer()
    order = OrderChange("o", "stranger", "Pan", 1, 100, OrderStatus.RESERVED, 2)
    await h.notify_order_change(c.NotifyOrderChange(order, AT), db.uow(), deps(clock))
    send = sender(db, mailer, clock)
    assert await send.deliver_due() == Round(), "nothing to send it to"
    assert await send.give_up_unaddressed() == 0
    clock.advance(3601)
    assert await send.give_up_unaddressed() == 1
    assert [m.status for m in db.state.mail.values()] == [MailStatus.FAILED]
