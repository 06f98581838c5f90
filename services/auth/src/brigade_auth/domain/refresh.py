"""Refresh tokens: opaque, single use, in families.

Signing in starts a family; each refresh spends the token presented and issues the next one of the
same family. A token that is presented after it was spent means two parties hold it (a thief and
the user): the whole family is revoked, so neither can go on (OAuth 2.0 Security BCP, §4.14).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

UNKNOWN = "unknown refresh token"
EXPIRED = "the refresh token has expired"
REVOKED = "the session was signed out or revoked"
REUSED = "the refresh token was used already: the session is revoked"


@dataclass
class RefreshToken:
    id: str
    family_id: str
    user_id: str
    expires_at: datetime
    spent_at: datetime | None = None


@dataclass
class Family:
    id: str
    user_id: str
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    def spend(self, token: RefreshToken, now: datetime) -> str | None:
        """Spend `token` of this family: None when it may be exchanged for the next one, else why
        not. A spent token presented again revokes the family (what the caller must commit)."""
        if self.revoked_at is not None:
            return REVOKED
        if token.spent_at is not None:
            self.revoke(now, "reused")
            return REUSED
        if token.expires_at <= now:
            return EXPIRED
        token.spent_at = now
        return None

    def revoke(self, now: datetime, reason: str) -> None:
        if self.revoked_at is None:
            self.revoked_at = now
            self.revoked_reason = reason


def new_secret() -> str:
    """A refresh token: 256 random bits, URL-safe (it is the whole credential: nothing else is sent)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored of a refresh token. A fast hash is enough for 256 random bits: there is no
    dictionary to try, and a stolen table gives no token."""
    return hashlib.sha256(secret.encode()).hexdigest()
