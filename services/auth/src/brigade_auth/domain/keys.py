"""Signing keys and their rotation policy.

The newest key signs every new access token. Rotating adds a key and marks the others superseded;
a superseded key is still published (the JWKS) until every token it signed has expired, which is
the token lifetime plus a grace for the verifiers' leeway and clock skew. After that it is retired:
no longer published, and its private half deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# The verifiers accept a token 30 s past its expiry (brigade_common.auth.verifier); clocks drift.
GRACE_S = 60.0


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str = field(repr=False)
    public_jwk: dict[str, str]
    created_at: datetime
    superseded_at: datetime | None = None


@dataclass(frozen=True)
class KeyPolicy:
    token_ttl_s: float
    grace_s: float = GRACE_S

    def publishes(self, key: SigningKey, now: datetime) -> bool:
        """Whether a token signed with `key` may still be valid at `now`."""
        if key.superseded_at is None:
            return True
        return now < key.superseded_at + timedelta(seconds=self.token_ttl_s + self.grace_s)

    def published(self, keys: Sequence[SigningKey], now: datetime) -> list[SigningKey]:
        return [k for k in keys if self.publishes(k, now)]

    def retired(self, keys: Sequence[SigningKey], now: datetime) -> list[str]:
        """The kids of keys no token can still name: to delete."""
        return [k.kid for k in keys if not self.publishes(k, now)]

    @staticmethod
    def signing(keys: Sequence[SigningKey]) -> SigningKey | None:
        """The key new tokens are signed with: the newest one not superseded."""
        current = [k for k in keys if k.superseded_at is None]
        return max(current, key=lambda k: k.created_at) if current else None

    @staticmethod
    def superseded_by_rotation(keys: Sequence[SigningKey]) -> list[str]:
        """The kids a rotation marks superseded: every key still signing."""
        return [k.kid for k in keys if k.superseded_at is None]
