"""The auth service's rules, pure: addresses, passwords, roles, refresh families, throttle windows, keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brigade_auth.domain.errors import InvalidEmail, LastAdmin, WeakPassword
from brigade_auth.domain.events import RolesChanged, UserRegistered
from brigade_auth.domain.keys import KeyPolicy, SigningKey
from brigade_auth.domain.model import User, normalise_email
from brigade_auth.domain.passwords import check_password
from brigade_auth.domain.refresh import EXPIRED, REUSED, REVOKED, Family, RefreshToken
from brigade_auth.domain.throttle import Attempts, SigninThrottle, Window
from brigade_contracts.auth import Role

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "normal"), [("Ana@Example.COM", "ana@example.com"), (" bo.b+x@mail.co.uk ", "bo.b+x@mail.co.uk")]
)
def test_two_spellings_of_one_address_are_one_account(text: str, normal: str) -> None:
    assert normalise_email(text) == normal


@pytest.mark.parametrize("text", ["ana", "ana@localhost", "a b@example.com", "ana@@example.com", "x" * 250 + "@ex.com"])
def test_what_is_not_an_address_is_refused(text: str) -> None:
    with pytest.raises(InvalidEmail):
        normalise_email(text)


@pytest.mark.parametrize(
    ("password", "email", "refused"),
    [
        ("eleven char", "ana@example.com", True),
        ("twelve chars", "ana@example.com", False),
        ("ANA.LONGNAME@example.com", "ana.longname@example.com", True),
        ("Ana.Longname", "ana.longname@example.com", True),
        ("x" * 1025, "ana@example.com", True),
    ],
)
def test_a_password_is_long_enough_and_not_the_address(password: str, email: str, refused: bool) -> None:
    if refused:
        with pytest.raises(WeakPassword):
            check_password(password, email)
    else:
        check_password(password, email)


def test_a_new_user_is_a_customer_and_says_so_without_its_hash() -> None:
    user = User.register("u1", "Ana@Example.com", "Ana", "secret-hash", T0)
    assert user.roles == (Role.CUSTOMER,)
    assert user.events == [UserRegistered("u1", "ana@example.com", "Ana", (Role.CUSTOMER,))]
    assert "secret-hash" not in repr(user.events)


def test_roles_change_with_an_event_and_the_last_admin_stays() -> None:
    user = User.register("u1", "ana@example.com", "Ana", "h", T0)
    user.events.clear()
    assert user.change_roles([Role.STAFF, Role.ADMIN, Role.STAFF], by="root", admins_left=0)
    assert user.roles == (Role.STAFF, Role.ADMIN)
    assert user.events == [RolesChanged("u1", (Role.STAFF, Role.ADMIN), (Role.CUSTOMER,), "root")]
    assert not user.change_roles([Role.ADMIN, Role.STAFF], by="root", admins_left=0)  # nothing changed
    with pytest.raises(LastAdmin):
        user.change_roles([Role.STAFF], by="root", admins_left=0)
    assert user.change_roles([Role.STAFF], by="root", admins_left=1)


def test_a_refresh_token_is_spent_once_and_a_replay_revokes_its_family() -> None:
    family = Family("f1", "u1")
    first = RefreshToken("t1", "f1", "u1", at(3600))
    assert family.spend(first, at(10)) is None
    assert first.spent_at == at(10)
    assert family.spend(first, at(20)) == REUSED
    assert family.revoked_at == at(20)
    assert family.spend(RefreshToken("t2", "f1", "u1", at(3600)), at(30)) == REVOKED


def test_an_expired_refresh_token_is_refused_without_revoking_anything() -> None:
    family = Family("f1", "u1")
    assert family.spend(RefreshToken("t1", "f1", "u1", at(60)), at(60)) == EXPIRED
    assert family.revoked_at is None


def test_a_throttle_window_counts_from_its_first_attempt_and_says_how_long_to_wait() -> None:
    window = Window(limit=3, seconds=60)
    assert window.retry_after(Attempts(3, T0), at(5)) is None
    assert window.retry_after(Attempts(4, T0), at(5)) == 55
    assert window.retry_after(Attempts(9, T0), at(59.5)) == 1
    assert not window.restarts(T0, at(59.9))
    assert window.restarts(T0, at(60))
    both = SigninThrottle(account=Window(3, 60), address=Window(50, 600))
    assert both.retry_after(Attempts(4, T0), Attempts(51, T0), at(10)) == 590
    assert both.retry_after(Attempts(1, T0), Attempts(2, T0), at(10)) is None


def _key(kid: str, created: float, superseded: float | None = None) -> SigningKey:
    return SigningKey(kid, "pem", {"kid": kid}, at(created), at(superseded) if superseded is not None else None)


def test_a_superseded_key_is_published_until_its_last_token_has_expired() -> None:
    policy = KeyPolicy(token_ttl_s=900, grace_s=60)
    keys = [_key("old", 0, superseded=100), _key("new", 100)]
    assert KeyPolicy.signing(keys) == keys[1]
    assert [k.kid for k in policy.published(keys, at(100 + 959))] == ["old", "new"]
    assert [k.kid for k in policy.published(keys, at(100 + 960))] == ["new"]
    assert policy.retired(keys, at(100 + 960)) == ["old"]
    assert KeyPolicy.superseded_by_rotation(keys) == ["new"]
    assert KeyPolicy.signing([keys[0]]) is None
