"""asyncpg pool bound to a service's own schema."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def check_identifier(name: str) -> str:
    """Schema names are interpolated into SQL, so only plain identifiers are allowed."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


class Connection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection that goes back to its pool without asyncpg's reset query (`SELECT
    pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`, one round trip per release) when its
    user said it left the session as it found it (`session_unchanged`): a unit of work's transaction
    does (Brigade never SETs, LISTENs or takes session advisory locks on a pooled connection; a
    transaction left open is still rolled back by the pool). Any other release is reset as usual."""

    _unchanged = False

    def session_unchanged(self) -> None:
        self._unchanged = True

    def get_reset_query(self) -> str:
        if self._unchanged:
            self._unchanged = False
            return ""
        query: str = super().get_reset_query()
        return query


def session_unchanged(conn: Any) -> None:
    """Release `conn` (a connection of a `create_pool` pool) without the reset query, this once."""
    mark = getattr(conn, "session_unchanged", None)
    if mark is not None:
        mark()


class Reads:
    """The reads of a service's read side on `pool`: statements that leave the session as they found
    it (SELECTs, a read-only transaction), each on a connection that goes back without the reset
    query, so a read costs one round trip, not two. A read that fails is reset as usual."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            rows: list[asyncpg.Record] = await conn.fetch(query, *args)
            session_unchanged(conn)
            return rows

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.pool.acquire() as conn:
            row: asyncpg.Record | None = await conn.fetchrow(query, *args)
            session_unchanged(conn)
            return row

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.pool.acquire() as conn:
            value = await conn.fetchval(query, *args)
            session_unchanged(conn)
            return value

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection in a read-only, repeatable-read transaction: several reads of one snapshot."""
        async with self.pool.acquire() as conn:
            async with conn.transaction(readonly=True, isolation="repeatable_read"):
                yield conn
            session_unchanged(conn)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    url: str, schema: str, *, min_size: int = 1, max_size: int = 10, application_name: str = ""
) -> asyncpg.Pool:
    """A pool whose connections resolve unqualified names in `schema` (and only there)."""
    settings: dict[str, Any] = {"search_path": check_identifier(schema)}
    if application_name:
        settings["application_name"] = application_name
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        server_settings=settings,
        init=_init_connection,
        connection_class=Connection,
    )
    assert pool is not None
    return pool


def is_uuid(text: str) -> bool:
    """Whether `text` is a UUID: a lookup by any other text matches no row of a uuid column, and is
    answered without asking PostgreSQL (which would refuse the cast)."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
