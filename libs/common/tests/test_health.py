"""Liveness, readiness and the stock checks, against real PostgreSQL and nats-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import nats
from starlette.applications import Starlette

from brigade_common.health import ReadinessChecks, database_check, migrations_check, nats_check
from brigade_common.http import create_app
from brigade_common.problems import PROBLEM_MEDIA_TYPE


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def passing() -> None:
    return None


async def failing() -> None:
    raise ConnectionRefusedError("connection refused")


async def test_checks_run_concurrently() -> None:
    a_started, b_started = asyncio.Event(), asyncio.Event()

    # Each check finishes only once the other has started: run one after the other, both time out.
    async def check_a() -> None:
        a_started.set()
        await b_started.wait()

    async def check_b() -> None:
        b_started.set()
        await a_started.wait()

    checks = ReadinessChecks({"a": check_a, "b": check_b}, timeout_s=5)
    assert await checks.run() == {"a": None, "b": None}


async def test_a_hung_check_times_out_without_hiding_the_others() -> None:
    never = asyncio.Event()

    async def hangs() -> None:
        await never.wait()

    checks = ReadinessChecks({"ok": passing, "down": failing})
    checks.add("hung", hangs, timeout_s=0.05)
    assert await checks.run() == {
        "ok": None,
        "down": "ConnectionRefusedError: connection refused",
        "hung": "timed out after 0.05s",
    }
    assert list(checks) == ["ok", "down", "hung"]
    assert "hung" in checks
    checks.remove("hung")
    assert len(checks) == 2


async def test_readyz_reports_each_check_and_healthz_stays_up() -> None:
    readiness = ReadinessChecks({"database": passing})
    app = create_app(service="svc", routes=[], readiness=readiness)
    async with client(app) as c:
        ready = await c.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}

        readiness.add("nats", failing)
        not_ready = await c.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.headers["content-type"] == PROBLEM_MEDIA_TYPE
        body = not_ready.json()
        assert body["type"] == "https://brigade.dev/problems/not-ready"
        assert body["checks"] == {"database": "ok", "nats": "ConnectionRefusedError: connection refused"}
        assert body["errors"] == [{"field": "nats", "message": "ConnectionRefusedError: connection refused"}]

        health = await c.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}


async def test_checks_added_in_the_lifespan_are_used(database_url: str) -> None:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        app.state.readiness.add("database", database_check(pool))
        yield
        await pool.close()

    app = create_app(service="svc", routes=[], lifespan=lifespan)
    async with app.router.lifespan_context(app), client(app) as c:
        r = await c.get("/readyz")
    assert r.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_database_check(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    check = database_check(pool)
    await check()
    await pool.close()
    result = await ReadinessChecks({"database": check}).run()
    assert result["database"] is not None


async def test_nats_check(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    check = nats_check(nc)
    await check()
    await nc.drain()
    assert await ReadinessChecks({"nats": check}).run() == {"nats": "RuntimeError: not connected"}


async def test_migrations_check() -> None:
    async def at_head() -> str | None:
        return "0003"

    async def behind() -> str | None:
        return "0002"

    async def empty() -> str | None:
        return None

    result = await ReadinessChecks(
        {
            "current": migrations_check(at_head, "0003"),
            "behind": migrations_check(behind, "0003"),
            "empty": migrations_check(empty, "0003"),
            "no-migrations": migrations_check(empty, None),
        }
    ).run()
    assert result == {
        "current": None,
        "behind": "RuntimeError: database schema at revision '0002', this code expects '0003'",
        "empty": "RuntimeError: database schema at revision None, this code expects '0003'",
        "no-migrations": None,
    }
