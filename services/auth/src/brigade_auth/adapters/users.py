"""The `User` aggregate in PostgreSQL (`users`).

A new user is inserted at once (`ON CONFLICT DO NOTHING`: the unique address decides, whatever the
concurrency); changes to a loaded user are buffered and written when the unit of work commits.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from brigade_auth.domain.events import Event
from brigade_auth.domain.model import User, ordered
from brigade_common.db import is_uuid
from brigade_common.writes import Session, Table
from brigade_contracts.auth import Role

USER_CHANGES = Table.of(
    "users",
    ("id", "uuid"),
    ("roles", "text", "jsonb"),
    ("password_hash", "text"),
    key="id",
    on_update="updated_at = now()",
)
COLUMNS = "id::text AS id, email, display_name, roles, password_hash, created_at"


def user_of(row: asyncpg.Record | dict[str, Any]) -> User:
    return User(
        row["id"],
        row["email"],
        row["display_name"],
        ordered(Role(r) for r in row["roles"]),
        row["password_hash"],
        row["created_at"],
    )


def roles_json(roles: tuple[Role, ...]) -> str:
    return json.dumps([r.value for r in roles])


class PostgresUsers:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._seen: dict[str, tuple[User, tuple[Role, ...], str]] = {}

    def _track(self, user: User) -> User:
        self._seen.setdefault(user.id, (user, user.roles, user.password_hash))
        return self._seen[user.id][0]

    async def add(self, user: User) -> bool:
        inserted = await self._session.fetchval(
            "INSERT INTO users (id, email, display_name, roles, password_hash, created_at) "
            "VALUES ($1::uuid, $2, $3, $4::text::jsonb, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING true",
            user.id,
            user.email,
            user.display_name,
            roles_json(user.roles),
            user.password_hash,
            user.created_at,
        )
        if not inserted:
            return False
        # Written as it is now: later changes in this unit of work are compared with that.
        self._seen[user.id] = (user, user.roles, user.password_hash)
        return True

    async def by_email(self, email: str) -> User | None:
        row = await self._session.fetchrow(f"SELECT {COLUMNS} FROM users WHERE email = $1", email)  # noqa: S608
        return user_of(row) if row else None

    async def get(self, user_id: str) -> User | None:
        if user_id in self._seen:
            return self._seen[user_id][0]
        if not is_uuid(user_id):
            return None
        row = await self._session.fetchrow(f"SELECT {COLUMNS} FROM users WHERE id = $1::uuid FOR UPDATE", user_id)  # noqa: S608
        return self._track(user_of(row)) if row else None

    async def admins_besides(self, user_id: str) -> int:
        rows = await self._session.fetch(
            "SELECT id FROM users WHERE roles ? 'admin' AND id::text <> $1 ORDER BY id FOR UPDATE", user_id
        )
        return len(rows)

    def persist(self) -> list[Event]:
        """Buffer the changed users; the events every user recorded, in order."""
        events: list[Event] = []
        for user, roles, password_hash in self._seen.values():
            if (user.roles, user.password_hash) != (roles, password_hash):
                self._session.buffer.update(USER_CHANGES, (user.id, roles_json(user.roles), user.password_hash))
            events += user.events
            user.events = []
        self._seen.clear()
        return events
