"""The auth service's read side on PostgreSQL: what the HTTP API shows, read on the pool."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from brigade_auth.adapters.keys import SELECT_KEYS, key_of
from brigade_auth.adapters.users import COLUMNS, user_of
from brigade_auth.domain.keys import SigningKey
from brigade_auth.service.ports import UserView
from brigade_common.db import Reads, is_uuid
from brigade_contracts.auth import Role


class PostgresAuthViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._reads = Reads(pool)

    async def user(self, user_id: str) -> UserView | None:
        if not is_uuid(user_id):
            return None
        row = await self._reads.fetchrow(f"SELECT {COLUMNS} FROM users WHERE id = $1::uuid", user_id)  # noqa: S608
        return UserView.of(user_of(row)) if row else None

    async def users(self, role: Role, *, before: tuple[datetime, str] | None, limit: int) -> list[UserView]:
        rows = await self._reads.fetch(
            f"SELECT {COLUMNS} FROM users WHERE roles ? $1 "  # noqa: S608
            "AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid)) "
            "ORDER BY created_at DESC, id DESC LIMIT $4",
            role.value,
            before[0] if before else None,
            before[1] if before else None,
            limit,
        )
        return [UserView.of(user_of(r)) for r in rows]

    async def keys(self) -> list[SigningKey]:
        return [key_of(r) for r in await self._reads.fetch(SELECT_KEYS)]
