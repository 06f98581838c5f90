from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from brigade_common.testing.inprocess import TestKeys, in_process, migrate_and_seed
from brigade_kitchen.adapters.seed import seed
from brigade_kitchen.bootstrap import create_app
from brigade_kitchen.config import MIGRATIONS_DIR, SCHEMA, Settings
from services.kitchen.tests.integration.harness import KitchenClient


@pytest.fixture
def kitchen_settings() -> dict[str, object]:
    return {"order_wait_s": 0.5, "payment_window_s": 900}


@pytest.fixture
async def kitchen(
    database_url: str, nats_url: str, kitchen_settings: dict[str, object]
) -> AsyncIterator[KitchenClient]:
    """The kitchen app in-process (real PostgreSQL and NATS), migrated and seeded; no warehouse runs."""
    await migrate_and_seed(database_url, SCHEMA, MIGRATIONS_DIR, seed)
    keys = TestKeys()
    settings = Settings(database_url=database_url, nats_url=nats_url, jwt_public_keys=keys.jwks, **kitchen_settings)  # type: ignore[arg-type]
    async with in_process(create_app(settings), "http://kitchen", database_url, nats_url, SCHEMA) as app:
        yield KitchenClient(app, keys)
