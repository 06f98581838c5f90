from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from brigade_common.auth.keys import generate_key, jwks
from brigade_common.migrations import upgrade
from brigade_kitchen.adapters.seed import seed
from brigade_kitchen.bootstrap import create_app
from brigade_kitchen.config import MIGRATIONS_DIR, Settings
from services.kitchen.tests.integration.harness import KitchenClient


@pytest.fixture
def kitchen_settings() -> dict[str, object]:
    return {"order_wait_s": 0.5, "payment_window_s": 900}


@pytest.fixture
async def kitchen(
    database_url: str, nats_url: str, kitchen_settings: dict[str, object]
) -> AsyncIterator[KitchenClient]:
    """The kitchen app in-process (real PostgreSQL and NATS), migrated and seeded; no warehouse runs."""
    private_pem, public = generate_key("k1")
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, database_url, "kitchen")
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "kitchen"})
    await seed(conn)
    await conn.close()
    settings = Settings(
        database_url=database_url, nats_url=nats_url, jwt_public_keys=jwks([public]), **kitchen_settings
    )  # type: ignore[arg-type]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kitchen") as http:
            yield KitchenClient(http, app.state.kitchen, private_pem)
