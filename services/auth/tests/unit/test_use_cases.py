"""The auth service's use cases against in-memory fakes."""

from __future__ import annotations

import pytest

from brigade_auth.domain.errors import EmailTaken, InvalidCredentials, LastAdmin, RefreshRefused, TooManyAttempts
from brigade_auth.domain.events import RolesChanged, UserRegistered
from brigade_auth.domain.refresh import REUSED, REVOKED
from brigade_auth.service import commands as c
from brigade_auth.service.auth import Auth
from brigade_auth.service.handlers import Deps, SignedIn, ensure_signing_key, rotate_keys
from brigade_common.messaging import MessageContext
from brigade_contracts.auth import Role
from services.auth.tests.unit.fakes import World

CTX = MessageContext("test")
PASSWORD = "a long enough password"


class NoViews:
    async def user(self, user_id: str) -> None:
        return None

    async def users(self, *args: object, **kwargs: object) -> list[object]:
        return []

    async def keys(self) -> list[object]:
        return []


async def service(world: World, **limits: int) -> tuple[Auth, Deps]:
    deps = world.deps(**limits)
    auth = Auth(uow=world.uow, views=NoViews(), deps=deps)  # type: ignore[arg-type]
    await ensure_signing_key(c.EnsureSigningKey(), world.uow(), deps)
    return auth, deps


async def sign_in(auth: Auth, email: str, password: str = PASSWORD, address: str = "10.0.0.1") -> SignedIn:
    result: SignedIn = await auth.sign_in(c.SignIn(email, password, address), context=CTX)
    return result


async def test_a_duplicate_sign_up_creates_nothing_and_publishes_nothing() -> None:
    world = World()
    auth, _ = await service(world)
    await auth.handle(c.SignUp("u1", "ana@example.com", PASSWORD, "Ana"), context=CTX)
    with pytest.raises(EmailTaken):
        await auth.handle(c.SignUp("u2", "ANA@example.com", "another password!", "Ana 2"), context=CTX)
    assert list(world.state.users) == ["u1"]
    assert world.state.published == [UserRegistered("u1", "ana@example.com", "Ana", (Role.CUSTOMER,))]


async def test_an_unknown_address_costs_one_hash_check_like_a_wrong_password() -> None:
    world = World()
    auth, _ = await service(world)
    await auth.handle(c.SignUp("u1", "ana@example.com", PASSWORD, "Ana"), context=CTX)
    for email, password in (("ana@example.com", "wrong password!!"), ("nobody@example.com", PASSWORD)):
        before = world.hasher.checks
        with pytest.raises(InvalidCredentials):
            await sign_in(auth, email, password)
        assert world.hasher.checks == before + 1


async def test_a_throttled_attempt_checks_no_password_and_the_window_ends() -> None:
    world = World()
    auth, _ = await service(world, account_limit=2, window_s=60)
    await auth.handle(c.SignUp("u1", "ana@example.com", PASSWORD, "Ana"), context=CTX)
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await sign_in(auth, "ana@example.com", "wrong password!!")
    checks = world.hasher.checks
    with pytest.raises(TooManyAttempts) as refused:
        await sign_in(auth, "ana@example.com")
    assert refused.value.retry_after_s == 60
    assert world.hasher.checks == checks
    world.clock.advance(60)
    assert (await sign_in(auth, "ana@example.com")).user.email == "ana@example.com"
    # The success forgave the account: two more guesses are allowed again.
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await sign_in(auth, "ana@example.com", "wrong password!!")


async def test_a_sign_in_rehashes_a_password_hashed_with_older_parameters() -> None:
    world = World()
    auth, _ = await service(world)
    await auth.handle(c.SignUp("u1", "ana@example.com", PASSWORD, "Ana"), context=CTX)
    world.hasher.version = 2
    await sign_in(auth, "ana@example.com")
    assert world.state.users["u1"].password_hash == f"h2:{PASSWORD}"
    hashes = world.hasher.hashes
    await sign_in(auth, "ana@example.com")
    assert world.hasher.hashes == hashes


async def test_refresh_rotates_and_a_replay_revokes_every_token_of_the_session() -> None:
    world = World()
    auth, _ = await service(world)
    await auth.handle(c.SignUp("u1", "ana@example.com", PASSWORD, "Ana"), context=CTX)
    first = await sign_in(auth, "ana@example.com")
    other_session = await sign_in(auth, "ana@example.com")
    second = await auth.handle(c.Refresh(first.refresh_token), context=CTX)
    assert second.refresh_token != first.refresh_token
    with pytest.raises(RefreshRefused) as replay:
        await auth.handle(c.Refresh(first.refresh_token), context=CTX)
    assert replay.value.reason == REUSED
    with pytest.raises(RefreshRefused) as after:
        await auth.handle(c.Refresh(second.refresh_token), context=CTX)
    assert after.value.reason == REVOKED
    # Another session of the same user is its own family: untouched.
    assert (await auth.handle(c.Refresh(other_session.refresh_token), context=CTX)).user.id == "u1"


async def test_a_role_change_reaches_the_next_refreshed_token() -> None:
    world = World()
    auth, _ = await service(world)
    await auth.handle(c.SignUp("u1", "ana@example.com", PASSWORD, "Ana"), context=CTX)
    session = await sign_in(auth, "ana@example.com")
    assert session.access.token.endswith(":customer")
    await auth.handle(c.ChangeRoles("u1", frozenset({Role.CUSTOMER, Role.STAFF}), by="root"), context=CTX)
    refreshed = await auth.handle(c.Refresh(session.refresh_token), context=CTX)
    assert refreshed.access.token.endswith(":customer,staff")
    assert RolesChanged("u1", (Role.CUSTOMER, Role.STAFF), (Role.CUSTOMER,), "root") in world.state.published


async def test_the_first_admin_is_granted_by_an_operator_and_keeps_the_role_alone() -> None:
    world = World()
    auth, _ = await service(world)
    await auth.handle(c.SignUp("u1", "root@example.com", PASSWORD, "Root"), context=CTX)
    admin = await auth.handle(c.GrantAdmin("Root@example.com", by="cli"), context=CTX)
    assert admin.roles == (Role.CUSTOMER, Role.STAFF, Role.ADMIN)
    with pytest.raises(LastAdmin):
        await auth.handle(c.ChangeRoles("u1", frozenset({Role.STAFF}), by="u1"), context=CTX)


async def test_rotation_signs_with_the_new_key_and_retires_keys_no_token_can_name() -> None:
    world = World()
    auth, deps = await service(world)
    await auth.handle(c.SignUp("u1", "ana@example.com", PASSWORD, "Ana"), context=CTX)
    assert (await sign_in(auth, "ana@example.com")).access.token.startswith("token:k1:")
    await rotate_keys(c.RotateKeys(), world.uow(), deps)
    assert (await sign_in(auth, "ana@example.com")).access.token.startswith("token:k2:")
    assert set(world.state.keys) == {"k1", "k2"}
    world.clock.advance(900 + 60)  # every k1 token has expired: the next rotation deletes k1
    await rotate_keys(c.RotateKeys(), world.uow(), deps)
    assert set(world.state.keys) == {"k2", "k3"}
    assert (await ensure_signing_key(c.EnsureSigningKey(), world.uow(), deps)).kid == "k3"
