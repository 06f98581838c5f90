from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from brigade_common.jetstream import connect
from brigade_common.outbox import OUTBOX_DDL
from brigade_common.unit_of_work import INBOX_DDL


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database holding the outbox and inbox tables plus a `notes` table."""
    p = await asyncpg.create_pool(database_url, min_size=1, max_size=8)
    assert p is not None
    async with p.acquire() as conn:
        await conn.execute(OUTBOX_DDL + INBOX_DDL + "CREATE TABLE notes (id serial, text text);")
    yield p
    await p.close()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await connect(nats_url, name="test")
    yield client
    await client.drain()
