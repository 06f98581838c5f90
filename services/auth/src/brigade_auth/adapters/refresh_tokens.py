"""Refresh tokens and their families in PostgreSQL (`refresh_tokens`, `refresh_families`).

A token is found by the digest of its secret and locked with its family, so two refreshes with the
same token are one after the other: the second finds it spent.
"""

from __future__ import annotations

from brigade_auth.domain.refresh import Family, RefreshToken
from brigade_common.writes import Session, Table

FAMILIES = Table.of("refresh_families", ("id", "uuid"), ("user_id", "uuid"))
TOKENS = Table.of(
    "refresh_tokens",
    ("id", "uuid"),
    ("family_id", "uuid"),
    ("user_id", "uuid"),
    ("digest", "text"),
    ("expires_at", "timestamptz"),
)
SPENT = Table.of("refresh_tokens", ("id", "uuid"), ("spent_at", "timestamptz"), key="id")
REVOKED = Table.of(
    "refresh_families", ("id", "uuid"), ("revoked_at", "timestamptz"), ("revoked_reason", "text"), key="id"
)


class PostgresRefreshTokens:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._loaded: list[tuple[RefreshToken, Family]] = []

    def start(self, family: Family) -> None:
        self._session.buffer.insert(FAMILIES, (family.id, family.user_id))

    def issue(self, token: RefreshToken, digest: str) -> None:
        self._session.buffer.insert(TOKENS, (token.id, token.family_id, token.user_id, digest, token.expires_at))

    async def find(self, digest: str) -> tuple[RefreshToken, Family] | None:
        row = await self._session.fetchrow(
            "SELECT t.id::text AS id, t.family_id::text AS family_id, t.user_id::text AS user_id, t.expires_at, "
            "t.spent_at, f.revoked_at, f.revoked_reason FROM refresh_tokens t "
            "JOIN refresh_families f ON f.id = t.family_id WHERE t.digest = $1 FOR UPDATE OF t, f",
            digest,
        )
        if row is None:
            return None
        token = RefreshToken(row["id"], row["family_id"], row["user_id"], row["expires_at"], row["spent_at"])
        family = Family(row["family_id"], row["user_id"], row["revoked_at"], row["revoked_reason"])
        self._loaded.append((token, family))
        return token, family

    def persist(self) -> None:
        """Buffer what changed of the loaded tokens and families."""
        for token, family in self._loaded:
            if token.spent_at is not None:
                self._session.buffer.update(SPENT, (token.id, token.spent_at))
            if family.revoked_at is not None:
                self._session.buffer.update(REVOKED, (family.id, family.revoked_at, family.revoked_reason))
        self._loaded.clear()
