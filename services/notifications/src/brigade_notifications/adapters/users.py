"""The users replica in PostgreSQL (`users`): auth's users as this service needs them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from brigade_common.writes import Session
from brigade_contracts.auth import Role
from brigade_notifications.domain.facts import Registration
from brigade_notifications.domain.model import User

# An older event never undoes a newer one: roles change only when `at` is not before the roles held.
_NEWER = "users.roles_as_of IS NULL OR users.roles_as_of <= EXCLUDED.roles_as_of"
_REGISTER = f"""
INSERT INTO users AS users (user_id, email, display_name, roles, roles_as_of) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id) DO UPDATE SET
    email = EXCLUDED.email,
    display_name = EXCLUDED.display_name,
    roles = CASE WHEN {_NEWER} THEN EXCLUDED.roles ELSE users.roles END,
    roles_as_of = greatest(users.roles_as_of, EXCLUDED.roles_as_of),
    updated_at = now()
"""  # noqa: S608 - no input is interpolated
_SET_ROLES = f"""
INSERT INTO users AS users (user_id, roles, roles_as_of) VALUES ($1, $2, $3)
ON CONFLICT (user_id) DO UPDATE SET roles = EXCLUDED.roles, roles_as_of = EXCLUDED.roles_as_of, updated_at = now()
WHERE {_NEWER}
"""  # noqa: S608 - no input is interpolated
_COLUMNS = "user_id, email, display_name, roles"


def _roles(roles: frozenset[Role]) -> list[str]:
    return sorted(r.value for r in roles)


def user_of(row: Any) -> User:
    return User(row["user_id"], row["email"], row["display_name"], frozenset(Role(r) for r in row["roles"]))


class PostgresUsers:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def lock(self, user_id: str) -> User:
        # An insert that meets a concurrent sign-up's insert waits for it, then finds its row.
        await self._session.execute("INSERT INTO users (user_id) VALUES ($1) ON CONFLICT DO NOTHING", user_id)
        row = await self._session.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE user_id = $1 FOR UPDATE", user_id)  # noqa: S608
        assert row is not None
        return user_of(row)

    async def register(self, user: Registration, at: datetime) -> None:
        await self._session.execute(_REGISTER, user.user_id, user.email, user.display_name, _roles(user.roles), at)

    async def set_roles(self, user_id: str, roles: frozenset[Role], at: datetime) -> None:
        await self._session.execute(_SET_ROLES, user_id, _roles(roles), at)

    async def staff(self) -> list[User]:
        rows = await self._session.fetch(
            f"SELECT {_COLUMNS} FROM users WHERE 'staff' = ANY (roles) ORDER BY user_id"  # noqa: S608
        )
        return [user_of(r) for r in rows]
