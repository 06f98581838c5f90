"""In-memory fakes of the auth service's ports, for unit tests of the use cases: no servers.

They keep what the use cases rely on: a unit of work changes nothing until `commit` (leaving
without it undoes everything), an address is unique, and a counter's window follows the domain's rule.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self

from brigade_auth.domain.events import Event
from brigade_auth.domain.keys import KeyPolicy, SigningKey
from brigade_auth.domain.model import User
from brigade_auth.domain.refresh import Family, RefreshToken
from brigade_auth.domain.throttle import Attempts, SigninThrottle, Window
from brigade_auth.service.handlers import Deps
from brigade_auth.service.ports import AccessToken, UserView
from brigade_common.messaging import InboxEntry, MessageContext
from brigade_common.testing.fakes import FakeClock, Ids
from brigade_contracts.auth import Role


class FakeHasher:
    """`h<version>:<password>`; counts every check, a dummy one included."""

    def __init__(self) -> None:
        self.version = 1
        self.checks = 0
        self.hashes = 0

    async def hash(self, password: str) -> str:
        self.hashes += 1
        return f"h{self.version}:{password}"

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.checks += 1
        return password_hash is not None and password_hash.split(":", 1)[1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"h{self.version}:")


class FakeSigner:
    def sign(self, user: User, key: SigningKey) -> AccessToken:
        return AccessToken(f"token:{key.kid}:{user.id}:{','.join(user.roles)}", 900)


class KeyMaker:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, now: datetime) -> SigningKey:
        self.n += 1
        kid = f"k{self.n}"
        return SigningKey(kid, f"pem-{kid}", {"kid": kid}, now)


@dataclass
class AuthState:
    """What the fake database holds, shared by every unit of work of one test."""

    users: dict[str, User] = field(default_factory=dict)
    families: dict[str, Family] = field(default_factory=dict)
    tokens: dict[str, RefreshToken] = field(default_factory=dict)  # digest → token
    attempts: dict[tuple[str, str], Attempts] = field(default_factory=dict)
    keys: dict[str, SigningKey] = field(default_factory=dict)
    published: list[Event] = field(default_factory=list)


class FakeUsers:
    def __init__(self, state: AuthState) -> None:
        self.state = state

    async def add(self, user: User) -> bool:
        if any(u.email == user.email for u in self.state.users.values()):
            return False
        self.state.users[user.id] = user
        return True

    async def by_email(self, email: str) -> User | None:
        return next((copy.deepcopy(u) for u in self.state.users.values() if u.email == email), None)

    async def get(self, user_id: str) -> User | None:
        return self.state.users.get(user_id)

    async def admins_besides(self, user_id: str) -> int:
        return sum(Role.ADMIN in u.roles for u in self.state.users.values() if u.id != user_id)


class FakeRefresh:
    def __init__(self, state: AuthState) -> None:
        self.state = state

    def start(self, family: Family) -> None:
        self.state.families[family.id] = family

    def issue(self, token: RefreshToken, digest: str) -> None:
        self.state.tokens[digest] = token

    async def find(self, digest: str) -> tuple[RefreshToken, Family] | None:
        token = self.state.tokens.get(digest)
        return (token, self.state.families[token.family_id]) if token else None


class FakeThrottles:
    def __init__(self, state: AuthState) -> None:
        self.state = state

    async def hit(self, scope: str, key: str, window_s: float, now: datetime) -> Attempts:
        before = self.state.attempts.get((scope, key))
        if before is None or Window(0, window_s).restarts(before.window_started, now):
            after = Attempts(1, now)
        else:
            after = Attempts(before.count + 1, before.window_started)
        self.state.attempts[(scope, key)] = after
        return after

    async def forgive(self, scope: str, key: str, *, reset: bool) -> None:
        before = self.state.attempts.get((scope, key))
        if reset or before is None:
            self.state.attempts.pop((scope, key), None)
        else:
            self.state.attempts[(scope, key)] = Attempts(max(before.count - 1, 0), before.window_started)


class FakeKeys:
    def __init__(self, state: AuthState) -> None:
        self.state = state

    async def all(self, *, lock: bool = False) -> list[SigningKey]:
        return sorted(self.state.keys.values(), key=lambda k: k.created_at)

    async def add(self, key: SigningKey) -> None:
        self.state.keys[key.kid] = key

    async def supersede(self, kids: Sequence[str], at: datetime) -> None:
        for kid in kids:
            old = self.state.keys[kid]
            self.state.keys[kid] = SigningKey(old.kid, old.private_pem, old.public_jwk, old.created_at, at)

    async def delete(self, kids: Sequence[str]) -> None:
        for kid in kids:
            del self.state.keys[kid]


class FakeUnitOfWork:
    """Works on a copy of the state; `commit` puts the copy in place and publishes the events."""

    def __init__(self, state: AuthState) -> None:
        self._shared = state
        self._committed = False

    async def __aenter__(self) -> Self:
        self._work = copy.deepcopy(self._shared)
        self.users = FakeUsers(self._work)
        self.refresh = FakeRefresh(self._work)
        self.throttles = FakeThrottles(self._work)
        self.keys = FakeKeys(self._work)
        return self

    async def commit(self) -> None:
        for user in self._work.users.values():
            self._work.published += user.events
            user.events = []
        self._shared.__dict__.update(self._work.__dict__)
        self._committed = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


@dataclass
class World:
    """One test's fake database and dependencies."""

    state: AuthState = field(default_factory=AuthState)
    clock: FakeClock = field(default_factory=FakeClock)
    hasher: FakeHasher = field(default_factory=FakeHasher)
    make_key: KeyMaker = field(default_factory=KeyMaker)
    ids: Ids = field(default_factory=Ids)

    def deps(self, *, account_limit: int = 3, address_limit: int = 10, window_s: float = 60) -> Deps:
        return Deps(
            clock=self.clock,
            new_id=self.ids,
            hasher=self.hasher,
            signer=FakeSigner(),
            make_key=self.make_key,
            throttle=SigninThrottle(Window(account_limit, window_s), Window(address_limit, window_s)),
            keys=KeyPolicy(token_ttl_s=900),
            refresh_ttl_s=3600,
        )

    def uow(self, context: MessageContext | None = None, inbox: InboxEntry | None = None) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.state)

    def user(self, email: str) -> UserView:
        return UserView.of(next(u for u in self.state.users.values() if u.email == email))
