"""Signing keys in PostgreSQL (`signing_keys`). Rotations are rare: each write is its own statement,
and `all(lock=True)` makes concurrent rotations (two replicas starting, an operator) take turns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from brigade_auth.domain.keys import SigningKey
from brigade_common.writes import Session

SELECT_KEYS = "SELECT kid, private_pem, public_jwk, created_at, superseded_at FROM signing_keys ORDER BY created_at"


def key_of(row: asyncpg.Record | dict[str, Any]) -> SigningKey:
    return SigningKey(row["kid"], row["private_pem"], dict(row["public_jwk"]), row["created_at"], row["superseded_at"])


class PostgresKeys:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def all(self, *, lock: bool = False) -> list[SigningKey]:
        if lock:
            await self._session.execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
        return [key_of(r) for r in await self._session.fetch(SELECT_KEYS)]

    async def add(self, key: SigningKey) -> None:
        await self._session.execute(
            "INSERT INTO signing_keys (kid, private_pem, public_jwk, created_at) VALUES ($1, $2, $3, $4)",
            key.kid,
            key.private_pem,
            key.public_jwk,
            key.created_at,
        )

    async def supersede(self, kids: Sequence[str], at: datetime) -> None:
        await self._session.execute(
            "UPDATE signing_keys SET superseded_at = $2 WHERE kid = ANY($1::text[]) AND superseded_at IS NULL",
            list(kids),
            at,
        )

    async def delete(self, kids: Sequence[str]) -> None:
        await self._session.execute("DELETE FROM signing_keys WHERE kid = ANY($1::text[])", list(kids))
