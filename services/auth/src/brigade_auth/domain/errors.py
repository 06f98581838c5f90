"""The auth service's errors: one hierarchy, mapped to HTTP in one place (entrypoints/http.py)."""

from __future__ import annotations


class AuthError(Exception):
    """Base of the auth service's errors."""


class InvalidEmail(AuthError):
    def __init__(self) -> None:
        super().__init__("not an e-mail address this service accepts")


class WeakPassword(AuthError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class EmailTaken(AuthError):
    def __init__(self) -> None:
        super().__init__("an account with this e-mail address exists already")


class InvalidCredentials(AuthError):
    """Unknown e-mail or wrong password: deliberately the same error (and the same time)."""

    def __init__(self) -> None:
        super().__init__("the e-mail address or the password is wrong")


class TooManyAttempts(AuthError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many sign-in attempts; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class RefreshRefused(AuthError):
    """The refresh token is unknown, expired, revoked, or was spent already (its family is revoked then)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownUser(AuthError):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"no user with id {user_id!r}")
        self.user_id = user_id


class LastAdmin(AuthError):
    def __init__(self) -> None:
        super().__init__("the last admin cannot give up the admin role: make another user an admin first")


class NoSigningKey(AuthError):
    def __init__(self) -> None:
        super().__init__("no signing key: the service creates one at start-up (`python -m brigade_auth keys rotate`)")
