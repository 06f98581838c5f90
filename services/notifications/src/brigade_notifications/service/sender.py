"""The sender: takes due mail from the queue, sends it, records how each attempt went.

A round claims a batch in one transaction (each mail counted as an attempt and leased, so another
replica skips it and a sender that dies leaves it to be taken again when the lease runs out), sends
it over a few SMTP connections at once with no transaction open, then settles every mail in a second
transaction: sent, due again after its back-off, or given up on. A crash between sending and
settling sends that batch again when the lease runs out, with the same Message-IDs (SMTP offers no
more than at-least-once; the ids let the receiving side drop the repeat).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from brigade_common.messaging import MessageContext
from brigade_notifications.domain.mail import Mail, MailStatus, RetryPolicy
from brigade_notifications.service.ports import Clock, Mailer, NotificationsUnitOfWork

UowFactory = Callable[[], NotificationsUnitOfWork]
SENDER = MessageContext("mail-sender")


@dataclass(frozen=True)
class Round:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __add__(self, other: Round) -> Round:
        return Round(self.sent + other.sent, self.retrying + other.retrying, self.failed + other.failed)


@dataclass(frozen=True)
class SenderOptions:
    policy: RetryPolicy
    batch: int
    connections: int
    lease_s: float
    address_wait_s: float


class MailSender:
    def __init__(
        self,
        uow: UowFactory,
        mailer: Mailer,
        *,
        clock: Clock,
        options: SenderOptions,
        on_settled: Callable[[Mail], None] = lambda mail: None,
    ) -> None:
        self._uow = uow
        self._mailer = mailer
        self._clock = clock
        self._options = options
        self._on_settled = on_settled
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Mail was queued: look now rather than at the next poll."""
        self._wake.set()

    async def deliver_due(self) -> Round:
        """Send everything due now, round after round, until nothing is."""
        total = Round()
        while True:
            done = await self._round()
            total += done
            if done == Round():
                return total

    async def _round(self) -> Round:
        opts = self._options
        async with self._uow() as uow:
            mails = await uow.mail.due(self._clock(), opts.batch)
            for mail in mails:
                mail.claim(self._clock(), opts.lease_s)
            uow.mail.save(mails)
            await uow.commit()
        if not mails:
            return Round()
        chunks = [mails[i :: opts.connections] for i in range(min(opts.connections, len(mails)))]
        results = await asyncio.gather(*(self._mailer.send(chunk) for chunk in chunks))
        attempts = {
            mail.id: attempt
            for chunk, got in zip(chunks, results, strict=True)
            for mail, attempt in zip(chunk, got, strict=True)
        }
        now = self._clock()
        for mail in mails:
            mail.settle(attempts[mail.id], now, opts.policy)
        async with self._uow() as uow:
            uow.mail.save(mails)
            await uow.commit()
        for mail in mails:
            self._on_settled(mail)
        return _count(mails)

    async def give_up_unaddressed(self) -> int:
        """Fail the mail whose recipient's address never became known (periodic)."""
        now = self._clock()
        async with self._uow() as uow:
            failed = await uow.mail.give_up_unaddressed(now - timedelta(seconds=self._options.address_wait_s), now)
            await uow.commit()
        return failed

    async def run(self, poll_s: float, on_error: Callable[[Exception], None]) -> None:
        """Deliver until cancelled: whenever woken, and every `poll_s` (mail due after a back-off).
        A failed round (the database is down) is reported and tried again at the next poll."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll_s)
            self._wake.clear()
            try:
                await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                on_error(exc)


def _count(mails: Sequence[Mail]) -> Round:
    sent = sum(m.status is MailStatus.SENT for m in mails)
    failed = sum(m.status is MailStatus.FAILED for m in mails)
    return Round(sent, len(mails) - sent - failed, failed)
