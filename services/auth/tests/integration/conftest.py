from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from brigade_auth.bootstrap import create_app
from brigade_auth.config import MIGRATIONS_DIR, SCHEMA, Settings
from brigade_common.testing.inprocess import in_process, migrate_and_seed
from services.auth.tests.integration.harness import BASE_URL, AuthClient

ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "a long admin password"


@pytest.fixture
def auth_settings() -> dict[str, object]:
    return {}


@pytest.fixture
async def auth(database_url: str, nats_url: str, auth_settings: dict[str, object]) -> AsyncIterator[AuthClient]:
    """The auth app in-process (real PostgreSQL and NATS), migrated, with a first admin from its settings."""
    await migrate_and_seed(database_url, SCHEMA, MIGRATIONS_DIR)
    values = {"first_admin_email": ADMIN_EMAIL, "first_admin_password": ADMIN_PASSWORD, **auth_settings}
    settings = Settings(database_url=database_url, nats_url=nats_url, **values)  # type: ignore[arg-type]
    async with in_process(create_app(settings), BASE_URL, database_url, nats_url, SCHEMA) as app:
        client = AuthClient(app, settings)
        client.passwords[ADMIN_EMAIL] = ADMIN_PASSWORD
        yield client
