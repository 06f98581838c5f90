"""The auth service's use cases, `verb_noun(cmd, uow, deps)`: each runs in one unit of work.

Password hashing (tens of milliseconds of CPU) happens outside any transaction, so no database
connection waits on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from brigade_auth.domain.errors import (
    EmailTaken,
    InvalidCredentials,
    NoSigningKey,
    RefreshRefused,
    TooManyAttempts,
    UnknownUser,
)
from brigade_auth.domain.keys import KeyPolicy, SigningKey
from brigade_auth.domain.model import User, normalise_email
from brigade_auth.domain.passwords import check_password
from brigade_auth.domain.refresh import UNKNOWN, Family, RefreshToken, digest, new_secret
from brigade_auth.domain.throttle import SigninThrottle
from brigade_auth.service import commands as c
from brigade_auth.service.ports import (
    AccessToken,
    AuthUnitOfWork,
    Clock,
    IdSource,
    KeyMaker,
    PasswordHasher,
    TokenSigner,
    UserView,
)
from brigade_contracts.auth import Role

ACCOUNT = "account"
ADDRESS = "address"
ADMIN_ROLES = frozenset({Role.ADMIN, Role.STAFF})


@dataclass(frozen=True)
class Deps:
    """What the use cases need besides their unit of work."""

    clock: Clock
    new_id: IdSource
    hasher: PasswordHasher
    signer: TokenSigner
    make_key: KeyMaker
    throttle: SigninThrottle
    keys: KeyPolicy
    refresh_ttl_s: float


@dataclass(frozen=True)
class SignedIn:
    """A session: the access token, and the refresh token that renews it (for the cookie only)."""

    user: UserView
    access: AccessToken
    refresh_token: str
    refresh_expires_in: int


async def sign_up(cmd: c.SignUp, uow: AuthUnitOfWork, deps: Deps) -> UserView:
    """A new customer. A taken address is refused and nothing is written (seed 001 created it anyway)."""
    email = normalise_email(cmd.email)
    check_password(cmd.password, email)
    user = User.register(cmd.user_id, email, cmd.display_name, await deps.hasher.hash(cmd.password), deps.clock())
    async with uow:
        if not await uow.users.add(user):
            raise EmailTaken
        await uow.commit()
    return UserView.of(user)


async def count_attempt(cmd: c.SignIn, uow: AuthUnitOfWork, deps: Deps) -> User | None:
    """Count a sign-in attempt against the account and the address (committed before the password
    is checked, so every replica sees it); the user of the address, if any."""
    email = normalise_email(cmd.email)
    now = deps.clock()
    async with uow:
        account = await uow.throttles.hit(ACCOUNT, email, deps.throttle.account.seconds, now)
        address = await uow.throttles.hit(ADDRESS, cmd.address, deps.throttle.address.seconds, now)
        wait = deps.throttle.retry_after(account, address, now)
        user = None if wait else await uow.users.by_email(email)
        await uow.commit()
    if wait:
        raise TooManyAttempts(wait)
    return user


async def open_session(cmd: c.OpenSession, uow: AuthUnitOfWork, deps: Deps) -> SignedIn:
    now = deps.clock()
    async with uow:
        await uow.throttles.forgive(ACCOUNT, cmd.email, reset=True)
        await uow.throttles.forgive(ADDRESS, cmd.address, reset=False)
        user = await uow.users.get(cmd.user_id)
        if user is None:  # deleted since the password was checked
            raise InvalidCredentials
        if cmd.new_hash is not None:
            user.rehash(cmd.new_hash)
        family = Family(deps.new_id(), user.id)
        uow.refresh.start(family)
        signed = await _issue(uow, user, family, deps, now)
        await uow.commit()
    return signed


async def refresh(cmd: c.Refresh, uow: AuthUnitOfWork, deps: Deps) -> SignedIn:
    """Spend the refresh token for a new pair; the user's roles as they are now go in the new token."""
    now = deps.clock()
    async with uow:
        found = await uow.refresh.find(digest(cmd.refresh_token))
        if found is None:
            raise RefreshRefused(UNKNOWN)
        token, family = found
        refused = family.spend(token, now)
        user = None if refused else await uow.users.get(token.user_id)
        if refused is None and user is None:
            family.revoke(now, "user gone")
            refused = UNKNOWN
        if refused is not None or user is None:
            await uow.commit()  # a revoked family stays revoked, though this request fails
            raise RefreshRefused(refused or UNKNOWN)
        signed = await _issue(uow, user, family, deps, now)
        await uow.commit()
    return signed


async def sign_out(cmd: c.SignOut, uow: AuthUnitOfWork, deps: Deps) -> None:
    """Revoke the session of the refresh token (its whole family); nothing to do without one."""
    if cmd.refresh_token is None:
        return
    async with uow:
        found = await uow.refresh.find(digest(cmd.refresh_token))
        if found is not None:
            found[1].revoke(deps.clock(), "signed out")
        await uow.commit()


async def change_roles(cmd: c.ChangeRoles, uow: AuthUnitOfWork, deps: Deps) -> UserView:
    async with uow:
        # The admins first, always in one order, then the user: two changes never deadlock.
        admins = await uow.users.admins_besides(cmd.user_id)
        user = await uow.users.get(cmd.user_id)
        if user is None:
            raise UnknownUser(cmd.user_id)
        user.change_roles(cmd.roles, by=cmd.by, admins_left=admins)
        await uow.commit()
    return UserView.of(user)


async def grant_admin(cmd: c.GrantAdmin, uow: AuthUnitOfWork, deps: Deps) -> UserView:
    """Make an existing user an admin (and staff, to see what they administer)."""
    email = normalise_email(cmd.email)
    async with uow:
        user = await uow.users.by_email(email)
        if user is None:
            raise UnknownUser(email)
        admins = await uow.users.admins_besides(user.id)
        locked = await uow.users.get(user.id)
        assert locked is not None
        locked.change_roles({*locked.roles, *ADMIN_ROLES}, by=cmd.by, admins_left=admins)
        await uow.commit()
    return UserView.of(locked)


async def provide_user(cmd: c.ProvideUser, uow: AuthUnitOfWork, deps: Deps) -> UserView:
    email = normalise_email(cmd.email)
    check_password(cmd.password, email)
    password_hash = await deps.hasher.hash(cmd.password)
    async with uow:
        existing = await uow.users.by_email(email)
        admins = await uow.users.admins_besides(existing.id if existing else "")
        user = await uow.users.get(existing.id) if existing else None
        if user is None:
            user = User.register(deps.new_id(), email, cmd.display_name, password_hash, deps.clock())
            if not await uow.users.add(user):
                raise EmailTaken
        else:
            user.rehash(password_hash)
        user.change_roles(cmd.roles, by=cmd.by, admins_left=admins)
        await uow.commit()
    return UserView.of(user)


async def rotate_keys(cmd: c.RotateKeys, uow: AuthUnitOfWork, deps: Deps) -> SigningKey:
    """A new signing key; the others keep being published until their last token expires, and the
    ones no token can name any more are deleted."""
    now = deps.clock()
    new = deps.make_key(now)
    async with uow:
        keys = await uow.keys.all(lock=True)
        await uow.keys.supersede(KeyPolicy.superseded_by_rotation(keys), now)
        await uow.keys.delete(deps.keys.retired(keys, now))
        await uow.keys.add(new)
        await uow.commit()
    return new


async def ensure_signing_key(cmd: c.EnsureSigningKey, uow: AuthUnitOfWork, deps: Deps) -> SigningKey:
    """The key new tokens are signed with, made if there is none (the first start)."""
    async with uow:
        current = KeyPolicy.signing(await uow.keys.all(lock=True))
        if current is None:
            current = deps.make_key(deps.clock())
            await uow.keys.add(current)
        await uow.commit()
    return current


async def _issue(uow: AuthUnitOfWork, user: User, family: Family, deps: Deps, now: datetime) -> SignedIn:
    key = KeyPolicy.signing(await uow.keys.all())
    if key is None:
        raise NoSigningKey
    secret = new_secret()
    expires = now + timedelta(seconds=deps.refresh_ttl_s)
    uow.refresh.issue(RefreshToken(deps.new_id(), family.id, user.id, expires), digest(secret))
    return SignedIn(UserView.of(user), deps.signer.sign(user, key), secret, int(deps.refresh_ttl_s))


Handler = Callable[[Any, AuthUnitOfWork, Deps], Awaitable[Any]]

HANDLERS: Mapping[type, Handler] = {
    c.SignUp: sign_up,
    c.SignIn: count_attempt,
    c.OpenSession: open_session,
    c.Refresh: refresh,
    c.SignOut: sign_out,
    c.ChangeRoles: change_roles,
    c.GrantAdmin: grant_admin,
    c.ProvideUser: provide_user,
    c.RotateKeys: rotate_keys,
    c.EnsureSigningKey: ensure_signing_key,
}
