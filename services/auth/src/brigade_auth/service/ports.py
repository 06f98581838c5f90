"""What the auth service's use cases need from the world, as protocols: the unit of work and its
repositories, the read side, password hashing, token signing, key making, a clock and ids.
Adapters implement them (adapters/), unit tests fake them (tests/unit/fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from brigade_auth.domain.keys import SigningKey
from brigade_auth.domain.model import User
from brigade_auth.domain.refresh import Family, RefreshToken
from brigade_auth.domain.throttle import Attempts
from brigade_common.messaging import InboxEntry, MessageContext
from brigade_common.transactional import Transactional
from brigade_contracts.auth import Role

Clock = Callable[[], datetime]
IdSource = Callable[[], str]


class Users(Protocol):
    async def add(self, user: User) -> bool:
        """Insert a new user; False (nothing written) when its e-mail address is taken."""

    async def by_email(self, email: str) -> User | None:
        """The user of a normalised address (not locked)."""

    async def get(self, user_id: str) -> User | None:
        """The user, locked until the unit of work ends (changes are written at commit)."""

    async def admins_besides(self, user_id: str) -> int:
        """How many other users are admins, their rows locked (so two admins cannot both step down)."""


class RefreshTokens(Protocol):
    def start(self, family: Family) -> None: ...

    def issue(self, token: RefreshToken, digest: str) -> None:
        """A new token, stored by the digest of its secret (the secret itself never is)."""

    async def find(self, digest: str) -> tuple[RefreshToken, Family] | None:
        """The token of that digest and its family, both locked (changes are written at commit)."""


class Throttles(Protocol):
    async def hit(self, scope: str, key: str, window_s: float, now: datetime) -> Attempts:
        """Count one attempt for `key` (atomically, shared by every replica): the counter after it."""

    async def forgive(self, scope: str, key: str, *, reset: bool) -> None:
        """Take back one attempt (a successful sign-in), or the whole count (`reset`)."""


class Keys(Protocol):
    async def all(self, *, lock: bool = False) -> list[SigningKey]:
        """Every key kept, oldest first; with `lock`, no other unit of work changes them meanwhile."""

    async def add(self, key: SigningKey) -> None: ...

    async def supersede(self, kids: Sequence[str], at: datetime) -> None: ...

    async def delete(self, kids: Sequence[str]) -> None: ...


class AuthUnitOfWork(Transactional, Protocol):
    """One transaction: the changes and the messages their events become are written on `commit`;
    leaving without a commit undoes everything."""

    @property
    def users(self) -> Users: ...

    @property
    def refresh(self) -> RefreshTokens: ...

    @property
    def throttles(self) -> Throttles: ...

    @property
    def keys(self) -> Keys: ...


UnitOfWorkFactory = Callable[[MessageContext, InboxEntry | None], AuthUnitOfWork]


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; for None (no such user) a dummy hash is checked all the same,
        so an unknown e-mail address costs the time a wrong password does."""

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current ones."""


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


class TokenSigner(Protocol):
    def sign(self, user: User, key: SigningKey) -> AccessToken: ...


class KeyMaker(Protocol):
    def __call__(self, now: datetime) -> SigningKey: ...


@dataclass(frozen=True)
class UserView:
    id: str
    email: str
    display_name: str
    roles: tuple[Role, ...]
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(user.id, user.email, user.display_name, user.roles, user.created_at)


class AuthViews(Protocol):
    """The read side: what the HTTP API shows, read without a unit of work."""

    async def user(self, user_id: str) -> UserView | None: ...

    async def users(self, role: Role, *, before: tuple[datetime, str] | None, limit: int) -> list[UserView]:
        """Users holding `role`, newest first."""

    async def keys(self) -> list[SigningKey]:
        """Every key kept (the use case decides which are published)."""
