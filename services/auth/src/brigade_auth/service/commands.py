"""What the auth service is asked to do (imperative), by people signing in and by operators."""

from __future__ import annotations

from dataclasses import dataclass

from brigade_contracts.auth import Role


@dataclass(frozen=True)
class SignUp:
    user_id: str
    email: str
    password: str
    display_name: str


@dataclass(frozen=True)
class SignIn:
    email: str
    password: str
    address: str  # the client's address, as the server resolved it (proxies it trusts applied)


@dataclass(frozen=True)
class Refresh:
    refresh_token: str


@dataclass(frozen=True)
class SignOut:
    refresh_token: str | None


@dataclass(frozen=True)
class ChangeRoles:
    user_id: str
    roles: frozenset[Role]
    by: str


@dataclass(frozen=True)
class GrantAdmin:
    """An operator's (CLI) or the deployment's (setting) first admin; never from a request."""

    email: str
    by: str


@dataclass(frozen=True)
class ProvideUser:
    """A user as a deployment or `make up` wants it (demo users, the first admin): created when
    missing, else given this password and these roles."""

    email: str
    password: str
    display_name: str
    roles: frozenset[Role]
    by: str


@dataclass(frozen=True)
class RotateKeys:
    pass


@dataclass(frozen=True)
class EnsureSigningKey:
    pass


@dataclass(frozen=True)
class OpenSession:
    """The second half of a sign-in, once the password proved right: forgive the attempt, store a
    better hash if the parameters changed (`new_hash`), start a refresh family."""

    user_id: str
    email: str
    address: str
    new_hash: str | None = None
