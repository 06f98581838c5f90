from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.harness import Stack, running


@pytest.fixture
def overrides() -> dict[str, str]:
    """Per-test settings for the services (tests override this fixture or mutate the dict)."""
    return {"MARKET_SEED": "7", "WAREHOUSE_MARKET_RETRY_S": "0.01"}


@pytest.fixture
async def stack(
    database_url: str, nats_url: str, tmp_path: Path, overrides: dict[str, str], request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    """Every service but the gateway (market, warehouse, kitchen…) as real processes, migrated and seeded
    with seed 000's data."""
    env = dict(overrides)
    for marker in request.node.iter_markers("stack_env"):
        env.update(marker.kwargs)
    s = Stack(database_url, nats_url, tmp_path, env)
    try:
        async with running(s):
            yield s
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(s.logs())


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert pool is not None
    yield pool
    await pool.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0) as client:
        yield client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
