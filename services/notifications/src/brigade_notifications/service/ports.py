"""What the use cases need from the world, as protocols: the unit of work and its repositories, the
read side, the renderer, the mailer, a clock and an id source. Adapters implement them (adapters/),
unit tests fake them (tests/unit/fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_common.transactional import Transactional
from brigade_contracts.auth import Role
from brigade_notifications.domain.events import Event
from brigade_notifications.domain.facts import Registration
from brigade_notifications.domain.mail import Attempt, Mail, MailStatus
from brigade_notifications.domain.model import Notice, Notification, User

Clock = Callable[[], datetime]
IdSource = Callable[[], str]


class Users(Protocol):
    async def lock(self, user_id: str) -> User:
        """The user, locked until the unit of work ends (a user not heard of yet is recorded with no
        address). A notice's mail and the user's sign-up serialise on it: whichever commits second
        sees the other, so a mail never misses the address that arrives meanwhile."""

    async def register(self, user: Registration, at: datetime) -> None:
        """Record the user's address and name; their roles too, unless a newer change set them."""

    async def set_roles(self, user_id: str, roles: frozenset[Role], at: datetime) -> None:
        """Record the roles as of `at`, unless the roles held are newer (a user not heard of yet is
        recorded without an address)."""

    async def staff(self) -> list[User]: ...


class Marked(NamedTuple):
    """A notification marked read, and whether it was unread until then."""

    notification: Notification
    newly: bool


class Notifications(Protocol):
    async def hold(self, user_id: str) -> None:
        """Until the unit of work ends, no other changes this user's notifications: the unread count
        an event carries is the count in the order the events are sent."""

    async def add(self, notification: Notification, source: str) -> bool:
        """Store it; False (and nothing stored) when this user has one from `source` already."""

    async def unread(self, user_id: str) -> int:
        """How many of the user's notifications are unread (this unit of work's changes included)."""

    async def mark_read(self, user_id: str, notification_id: str, at: datetime) -> Marked | None:
        """The user's notification, read (as of `at` unless it was read before); None if not theirs."""

    async def mark_all_read(self, user_id: str, at: datetime) -> int:
        """Mark every unread notification of the user read; how many were."""


class MailQueue(Protocol):
    def add(self, mail: Mail, notification_id: str) -> None:
        """Queue a mail (written at commit; a second with its Message-ID is dropped)."""

    async def address(self, user_id: str, email: str) -> int:
        """Give the user's waiting mail its address; how many were waiting."""

    async def due(self, now: datetime, limit: int) -> list[Mail]:
        """Up to `limit` addressed, queued mails due by `now`, locked (others skip them), oldest due first."""

    async def get(self, mail_id: str) -> Mail | None:
        """The mail, locked until the unit of work ends."""

    def save(self, mails: Sequence[Mail]) -> None:
        """Write these mails' state (status, attempts, next attempt, error) at commit."""

    async def give_up_unaddressed(self, created_before: datetime, now: datetime) -> int:
        """Fail the mail still waiting for an address that was queued before `created_before`."""


class NotificationsUnitOfWork(Transactional, Protocol):
    """One transaction: what the use case writes is written on `commit`; leaving without a commit
    undoes everything (and, for a message, leaves it unprocessed)."""

    @property
    def users(self) -> Users: ...

    @property
    def notifications(self) -> Notifications: ...

    @property
    def mail(self) -> MailQueue: ...

    def record(self, event: Event) -> None:
        """Send `event` with the commit (through the outbox)."""


UnitOfWorkFactory = Callable[[MessageContext, InboxEntry | None], NotificationsUnitOfWork]


@dataclass(frozen=True)
class Rendered:
    """An e-mail's two bodies."""

    text: str
    html: str


class MailRenderer(Protocol):
    def render(self, notice: Notice, recipient: str | None) -> Rendered:
        """The e-mail of `notice` for a recipient of that name (None: not known yet). The HTML is
        escaped: whatever the facts hold is shown as text, never run as markup."""


class Mailer(Protocol):
    async def send(self, mails: Sequence[Mail]) -> list[Attempt]:
        """Send each mail (in order, over one connection); how each attempt went. Never raises for
        a failed attempt: a server that is down or slow is `Outcome.RETRY` for every mail."""


@dataclass(frozen=True)
class Page:
    """A user's notifications, newest first, and how many of all theirs are unread."""

    items: list[Notification]
    unread: int


class NotificationViews(Protocol):
    """The read side, without a unit of work."""

    async def notifications_of(self, user_id: str, *, before: tuple[datetime, str] | None, limit: int) -> Page: ...

    async def mail_log(
        self, status: MailStatus | None, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[Mail]:
        """Mail newest first (only `status` if given): the sent-mail log, the queue, the failures."""
