"""A queued mail's life: back-off between attempts, giving up, a refusal, a retry by hand, and the
Message-ID that stays the same for the same cause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brigade_notifications.domain.errors import MailNotFailed
from brigade_notifications.domain.mail import Attempt, Mail, MailStatus, Outcome, RetryPolicy, message_id

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=4, base_s=5, max_s=12)
DOWN = Attempt(Outcome.RETRY, "ConnectionRefusedError")


def mail() -> Mail:
    return Mail("m", "<x@test>", "ana", "ana@example.com", "Hi", "text", "<p>html</p>", NOW, next_attempt_at=NOW)


def test_the_wait_doubles_after_each_failed_attempt_up_to_the_cap() -> None:
    assert [POLICY.delay(n) for n in (1, 2, 3, 4, 5)] == [5, 10, 12, 12, 12]


def test_a_failed_attempt_is_tried_again_after_its_back_off_then_given_up_on() -> None:
    m = mail()
    waits = []
    for _ in range(POLICY.max_attempts):
        m.claim(NOW, lease_s=60)
        m.settle(DOWN, NOW, POLICY)
        waits.append(None if m.next_attempt_at is None else (m.next_attempt_at - NOW).total_seconds())
    assert waits == [5, 10, 12, None]
    assert (m.status, m.attempts, m.last_error) == (MailStatus.FAILED, 4, "ConnectionRefusedError")


def test_a_claimed_mail_is_not_due_again_until_its_lease_runs_out() -> None:
    m = mail()
    m.claim(NOW, lease_s=60)
    assert m.next_attempt_at == NOW + timedelta(seconds=60)
    assert m.attempts == 1


def test_a_refusal_is_final_at_once_and_a_sent_mail_is_never_due_again() -> None:
    refused, sent = mail(), mail()
    for m, attempt in ((refused, Attempt(Outcome.REFUSED, "550 no such user")), (sent, Attempt.sent())):
        m.claim(NOW, lease_s=60)
        m.settle(attempt, NOW, POLICY)
    assert (refused.status, refused.attempts, refused.next_attempt_at) == (MailStatus.FAILED, 1, None)
    assert (sent.status, sent.sent_at, sent.next_attempt_at) == (MailStatus.SENT, NOW, None)


def test_staff_can_send_a_failed_mail_again_and_only_a_failed_one() -> None:
    m = mail()
    with pytest.raises(MailNotFailed):
        m.retry(NOW)
    m.claim(NOW, 60)
    m.settle(Attempt(Outcome.REFUSED, "550"), NOW, POLICY)
    m.retry(NOW)
    assert (m.status, m.attempts, m.next_attempt_at) == (MailStatus.QUEUED, 0, NOW)


def test_the_message_id_is_the_same_for_one_cause_and_recipient_and_differs_otherwise() -> None:
    a = message_id("order:o:v2", "ana", "brigade.test")
    assert a == message_id("order:o:v2", "ana", "brigade.test")
    assert a.startswith("<") and a.endswith("@brigade.test>")
    assert (
        len({a, message_id("order:o:v3", "ana", "brigade.test"), message_id("order:o:v2", "bob", "brigade.test")}) == 3
    )
