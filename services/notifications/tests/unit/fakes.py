"""In-memory fakes of the service's ports, for unit tests of the use cases and the sender.

They keep the contracts the use cases rely on: nothing a unit of work does is seen until `commit`
(leaving without it undoes everything, the events it recorded included), a second notification
from one source for one user is not stored, and a second mail with one Message-ID is not queued.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from brigade_common.messaging import AlreadyProcessed, InboxEntry, MessageContext
from brigade_common.testing.fakes import FakeClock, Ids
from brigade_contracts.auth import Role
from brigade_notifications.adapters.templates import JinjaRenderer
from brigade_notifications.domain.events import Event
from brigade_notifications.domain.facts import Registration
from brigade_notifications.domain.mail import Attempt, Mail, MailStatus, Outcome
from brigade_notifications.domain.model import Notification, User
from brigade_notifications.service.handlers import Deps
from brigade_notifications.service.ports import Marked


@dataclass
class State:
    """What the fake database holds, shared by every unit of work of one test."""

    users: dict[str, User] = field(default_factory=dict)
    roles_as_of: dict[str, datetime] = field(default_factory=dict)
    notifications: dict[str, Notification] = field(default_factory=dict)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)  # (user, source) → notification id
    mail: dict[str, Mail] = field(default_factory=dict)
    inbox: set[InboxEntry] = field(default_factory=set)
    sent: list[Event] = field(default_factory=list)  # the events committed, in order

    def of(self, user_id: str) -> list[Notification]:
        return [n for n in self.notifications.values() if n.user_id == user_id]

    def mail_to(self, user_id: str) -> list[Mail]:
        return [m for m in self.mail.values() if m.user_id == user_id]


class FakeUsers:
    def __init__(self, state: State) -> None:
        self.s = state

    async def lock(self, user_id: str) -> User:
        return self.s.users.setdefault(user_id, User(user_id, None, None))

    async def register(self, user: Registration, at: datetime) -> None:
        held = self.s.users.get(user.user_id)
        newer = user.user_id not in self.s.roles_as_of or self.s.roles_as_of[user.user_id] <= at
        roles = user.roles if newer or held is None else held.roles
        self.s.users[user.user_id] = User(user.user_id, user.email, user.display_name, roles)
        if newer:
            self.s.roles_as_of[user.user_id] = at

    async def set_roles(self, user_id: str, roles: frozenset[Role], at: datetime) -> None:
        if user_id in self.s.roles_as_of and self.s.roles_as_of[user_id] > at:
            return
        held = self.s.users.get(user_id) or User(user_id, None, None)
        self.s.users[user_id] = dataclasses.replace(held, roles=roles)
        self.s.roles_as_of[user_id] = at

    async def staff(self) -> list[User]:
        return sorted((u for u in self.s.users.values() if u.is_staff), key=lambda u: u.user_id)


class FakeNotifications:
    def __init__(self, state: State) -> None:
        self.s = state

    async def hold(self, user_id: str) -> None:
        pass  # one unit of work at a time: nothing to wait for

    async def unread(self, user_id: str) -> int:
        return sum(1 for n in self.s.of(user_id) if n.read_at is None)

    async def add(self, notification: Notification, source: str) -> bool:
        if (notification.user_id, source) in self.s.sources:
            return False
        self.s.sources[(notification.user_id, source)] = notification.id
        self.s.notifications[notification.id] = notification
        return True

    async def mark_read(self, user_id: str, notification_id: str, at: datetime) -> Marked | None:
        found = self.s.notifications.get(notification_id)
        if found is None or found.user_id != user_id:
            return None
        if found.read_at is not None:
            return Marked(found, newly=False)
        found = self.s.notifications[notification_id] = dataclasses.replace(found, read_at=at)
        return Marked(found, newly=True)

    async def mark_all_read(self, user_id: str, at: datetime) -> int:
        unread = [n for n in self.s.of(user_id) if n.read_at is None]
        for n in unread:
            self.s.notifications[n.id] = dataclasses.replace(n, read_at=at)
        return len(unread)


class FakeMailQueue:
    def __init__(self, state: State) -> None:
        self.s = state

    def add(self, mail: Mail, notification_id: str) -> None:
        if all(m.message_id != mail.message_id for m in self.s.mail.values()):
            self.s.mail[mail.id] = copy.copy(mail)

    async def address(self, user_id: str, email: str) -> int:
        waiting = [m for m in self.s.mail_to(user_id) if m.status is MailStatus.QUEUED and m.to_address is None]
        for m in waiting:
            m.to_address = email
        return len(waiting)

    async def due(self, now: datetime, limit: int) -> list[Mail]:
        due = [
            m
            for m in self.s.mail.values()
            if m.status is MailStatus.QUEUED and m.to_address and m.next_attempt_at and m.next_attempt_at <= now
        ]
        return [copy.copy(m) for m in sorted(due, key=lambda m: m.next_attempt_at or now)[:limit]]

    async def get(self, mail_id: str) -> Mail | None:
        found = self.s.mail.get(mail_id)
        return copy.copy(found) if found else None

    def save(self, mails: Sequence[Mail]) -> None:
        for m in mails:
            self.s.mail[m.id] = copy.copy(m)

    async def give_up_unaddressed(self, created_before: datetime, now: datetime) -> int:
        old = [m for m in self.s.mail.values() if m.status is MailStatus.QUEUED and not m.to_address]
        old = [m for m in old if m.created_at < created_before]
        for m in old:
            m.status, m.next_attempt_at, m.last_error = MailStatus.FAILED, None, "no e-mail address"
        return len(old)


class FakeUnitOfWork:
    """Works on a copy of the state; `commit` makes the copy the state."""

    def __init__(self, db: FakeDb, inbox: InboxEntry | None = None) -> None:
        self._db = db
        self._inbox = inbox
        self.committed = False

    async def __aenter__(self) -> FakeUnitOfWork:
        self._work = copy.deepcopy(self._db.state)
        if self._inbox is not None:
            if self._inbox in self._work.inbox:
                raise AlreadyProcessed(self._inbox.message_id)
            self._work.inbox.add(self._inbox)
        self.users = FakeUsers(self._work)
        self.notifications = FakeNotifications(self._work)
        self.mail = FakeMailQueue(self._work)
        return self

    def record(self, event: Event) -> None:
        self._work.sent.append(event)

    async def commit(self) -> None:
        self._db.state = self._work
        self.committed = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass


@dataclass
class FakeDb:
    state: State = field(default_factory=State)

    def uow(self, context: MessageContext | None = None, inbox: InboxEntry | None = None) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, inbox)


class ScriptedMailer:
    """A mailer whose server is up (`SENT`), down (`RETRY`) or refusing (`REFUSED`), as the test sets it."""

    def __init__(self) -> None:
        self.outcome = Outcome.SENT
        self.delivered: list[Mail] = []
        self.attempts = 0

    async def send(self, mails: Sequence[Mail]) -> list[Attempt]:
        self.attempts += len(mails)
        if self.outcome is Outcome.SENT:
            self.delivered += mails
            return [Attempt.sent()] * len(mails)
        return [Attempt(self.outcome, "421 try again later" if self.outcome is Outcome.RETRY else "550 no")] * len(
            mails
        )


def deps(clock: FakeClock | None = None) -> Deps:
    return Deps(clock=clock or FakeClock(), new_id=Ids(), renderer=JinjaRenderer("http://app.test"), mail_domain="test")
