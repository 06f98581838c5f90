"""The `brigade` database and an external NATS: what services need before they start."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg

from brigade_devstack.errors import DevstackError
from brigade_devstack.layout import Layout
from brigade_devstack.ports import is_taken


async def ensure_database(admin_url: str, name: str) -> bool:
    """Create database `name` if missing; True when it was created."""
    conn = await asyncpg.connect(admin_url)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()


def check_external_nats(url: str) -> None:
    """Fail early, naming the variable, when $NATS_URL points nowhere."""
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    host, port = parts.hostname or "127.0.0.1", parts.port or 4222
    if not is_taken(port, host):
        raise DevstackError(f"NATS_URL={url} but nothing answers at {host}:{port}: start that server or unset NATS_URL")


def prepare_home(layout: Layout) -> None:
    for folder in (layout.home, layout.logs, layout.run_dir):
        folder.mkdir(parents=True, exist_ok=True)
