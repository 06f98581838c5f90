from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from brigade_common.testing.inprocess import TestKeys, in_process, migrate_and_seed
from brigade_warehouse.adapters.seed import seed
from brigade_warehouse.bootstrap import create_app
from brigade_warehouse.config import MIGRATIONS_DIR, SCHEMA, Settings
from services.warehouse.tests.integration.harness import WarehouseClient


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
    await migrate_and_seed(database_url, SCHEMA, MIGRATIONS_DIR, seed)
    keys = TestKeys()
    settings = Settings(database_url=database_url, nats_url=nats_url, jwt_public_keys=keys.jwks, **warehouse_settings)  # type: ignore[arg-type]
    async with in_process(create_app(settings), "http://warehouse", database_url, nats_url, SCHEMA) as app:
        # The warehouse's API is for staff: the tests read it as a staff member.
        app.http.headers.update(keys.auth("staff-demo", ("staff",)))
        yield WarehouseClient(app, keys)
