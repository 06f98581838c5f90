"""A service's app in-process for integration tests, on the test's own PostgreSQL and nats-server.

    async with in_process(create_app(settings), "http://kitchen", database_url, nats_url, "kitchen") as svc:
        await svc.http.post(...)                # through the app's routes (httpx.ASGITransport)
        await svc.db.fetchval(...)              # the test's own pool, on the service's schema
        await svc.nc.jetstream().publish(...)   # the test's own NATS connection

The app's lifespan runs for the duration (its runtime, relay and consumers with it); the test never
reaches into the app's internals. `TestKeys` signs tokens that the app's JWKS setting trusts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from nats.aio.client import Client as NATS
from starlette.applications import Starlette

from brigade_common.auth.keys import generate_key, jwks
from brigade_common.auth.tokens import mint_token
from brigade_common.db import create_pool
from brigade_common.jetstream import connect
from brigade_common.migrations import upgrade

Seed = Callable[[asyncpg.Connection], Awaitable[None]]


@dataclass
class TestKeys:
    """A signing key of the test's own and the JWKS document that trusts it."""

    __test__ = False  # a helper, not a class of tests, though test modules import it by name

    kid: str = "k1"
    private_pem: str = field(init=False)
    jwks: str = field(init=False)

    def __post_init__(self) -> None:
        self.private_pem, public = generate_key(self.kid)
        self.jwks = jwks([public])

    def token(self, sub: str = "customer-demo", roles: tuple[str, ...] = ("customer",), ttl_s: int = 3600) -> str:
        return mint_token(self.private_pem, self.kid, sub=sub, roles=list(roles), ttl_s=ttl_s)

    def auth(self, sub: str = "customer-demo", roles: tuple[str, ...] = ("customer",)) -> dict[str, str]:
        """`Authorization` headers for `sub` with `roles`."""
        return {"Authorization": f"Bearer {self.token(sub, roles)}"}


async def migrate_and_seed(database_url: str, schema: str, migrations_dir: Path, seed: Seed | None = None) -> None:
    """What a deployment does before a service starts: migrate its schema, then load its seed data."""
    await asyncio.to_thread(upgrade, migrations_dir, database_url, schema)
    if seed is None:
        return
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        await seed(conn)
    finally:
        await conn.close()


@dataclass
class InProcess:
    http: httpx.AsyncClient
    db: asyncpg.Pool
    nc: NATS


@asynccontextmanager
async def in_process(
    app: Starlette, base_url: str, database_url: str, nats_url: str, schema: str
) -> AsyncIterator[InProcess]:
    """Run `app` (its lifespan) and give an HTTP client on it, a pool and a NATS connection."""
    pool = await create_pool(database_url, schema, max_size=4, application_name="test")
    nc = await connect(nats_url, name="test")
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
                yield InProcess(http, pool, nc)
    finally:
        await nc.drain()
        await pool.close()
