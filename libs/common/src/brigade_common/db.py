"""asyncpg pool bound to a service's own schema."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import asyncpg

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def check_identifier(name: str) -> str:
    """Schema names are interpolated into SQL, so only plain identifiers are allowed."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


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
        url, min_size=min_size, max_size=max_size, server_settings=settings, init=_init_connection
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
