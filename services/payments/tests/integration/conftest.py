from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from brigade_common.testing.inprocess import TestKeys, in_process, migrate_and_seed
from brigade_payments.bootstrap import create_app
from brigade_payments.config import MIGRATIONS_DIR, SCHEMA, Settings
from services.payments.tests.integration.harness import PaymentsClient


@pytest.fixture
def payments_settings() -> dict[str, object]:
    return {"kitchen_timeout_s": 1.0}


@pytest.fixture
async def payments(
    database_url: str, nats_url: str, payments_settings: dict[str, object]
) -> AsyncIterator[PaymentsClient]:
    """The payments app in-process (real PostgreSQL and NATS), migrated; no kitchen runs: the tests
    publish its events and, where they need it, stand in for its request-reply endpoint."""
    await migrate_and_seed(database_url, SCHEMA, MIGRATIONS_DIR)
    keys = TestKeys()
    settings = Settings(database_url=database_url, nats_url=nats_url, jwt_public_keys=keys.jwks, **payments_settings)  # type: ignore[arg-type]
    async with in_process(create_app(settings), "http://payments", database_url, nats_url, SCHEMA) as app:
        yield PaymentsClient(app, keys)
