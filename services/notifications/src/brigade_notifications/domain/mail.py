"""E-mail as this service sends it: a queued message per notice that is e-mailed, its `Message-ID`
derived from what caused it, and the rule for retrying it (back-off, then giving up)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from brigade_notifications.domain.errors import MailNotFailed


class MailStatus(StrEnum):
    QUEUED = "queued"  # waiting for its first or next attempt (or for its recipient's address)
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # given up on: refused by the server, or out of attempts; staff can retry it


def message_id(source: str, user_id: str, domain: str) -> str:
    """The `Message-ID` of the mail `source` causes for `user_id`: the same on every attempt and every
    redelivery of the cause, so a receiver can tell a repeat from a new mail."""
    digest = hashlib.sha256(f"{source}\x00{user_id}".encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts at most `max_attempts`, waiting `base_s`, then twice that, … up to `max_s` between them."""

    max_attempts: int
    base_s: float
    max_s: float

    def delay(self, attempts: int) -> float:
        """The wait after the `attempts`-th failed attempt."""
        return float(min(self.base_s * 2 ** max(attempts - 1, 0), self.max_s))

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # may work later: the server is down, slow, or said "try again" (4xx)
    REFUSED = "refused"  # will not work: the server said no for good (5xx)


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    error: str | None = None

    @classmethod
    def sent(cls) -> Attempt:
        return cls(Outcome.SENT)


@dataclass
class Mail:
    """One message in the queue; `to_address` is None until the recipient's address is known."""

    id: str
    message_id: str
    user_id: str
    to_address: str | None
    subject: str
    text: str
    html: str
    created_at: datetime
    status: MailStatus = MailStatus.QUEUED
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None

    def claim(self, now: datetime, lease_s: float) -> None:
        """Taken by a sender: counted as an attempt, and not due again until the lease runs out (a
        sender that dies meanwhile leaves it to be tried again then)."""
        self.attempts += 1
        self.next_attempt_at = now + timedelta(seconds=lease_s)

    def settle(self, attempt: Attempt, now: datetime, policy: RetryPolicy) -> None:
        """Record how the claimed attempt went."""
        if attempt.outcome is Outcome.SENT:
            self.status, self.sent_at, self.next_attempt_at = MailStatus.SENT, now, None
            return
        self.last_error = attempt.error
        if attempt.outcome is Outcome.REFUSED or policy.gives_up(self.attempts):
            self.status, self.next_attempt_at = MailStatus.FAILED, None
            return
        self.next_attempt_at = now + timedelta(seconds=policy.delay(self.attempts))

    def retry(self, now: datetime) -> None:
        """Staff send a failed mail again: a fresh set of attempts."""
        if self.status is not MailStatus.FAILED:
            raise MailNotFailed(self.id, self.status.value)
        self.status, self.attempts, self.next_attempt_at = MailStatus.QUEUED, 0, now
