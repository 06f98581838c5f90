from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from brigade_common.auth.keys import generate_key, jwks
from brigade_common.migrations import upgrade
from brigade_warehouse.adapters.seed import seed
from brigade_warehouse.bootstrap import create_app
from brigade_warehouse.config import MIGRATIONS_DIR, SCHEMA, Settings
from services.warehouse.tests.integration.harness import WarehouseClient, running


@pytest.fixture
def warehouse_settings() -> dict[str, object]:
    """Override in a test module (or parametrize indirectly) to tune the warehouse under test."""
    return {"supply_deadline_s": 10.0, "market_timeout_s": 2.0, "market_retry_s": 0.05}


@pytest.fixture
async def warehouse(
    database_url: str,
    nats_url: str,
    warehouse_settings: dict[str, object],
) -> AsyncIterator[WarehouseClient]:
    """The warehouse app in-process (real PostgreSQL and NATS), migrated and seeded (lechuga 2, pollo 4)."""
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, database_url, SCHEMA)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        await seed(conn)
    finally:
        await conn.close()
    _, public = generate_key("k1")
    settings = Settings(
        database_url=database_url, nats_url=nats_url, jwt_public_keys=jwks([public]), **warehouse_settings
    )  # type: ignore[arg-type]
    app = create_app(settings)
    async with running(app, "http://warehouse") as http:
        yield WarehouseClient(http, app.state.runtime)
