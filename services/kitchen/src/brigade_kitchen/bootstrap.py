"""Wires the kitchen together: runtime (database, NATS, outbox relay, consumers), waiters, HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass

import asyncpg
from starlette.applications import Starlette

from brigade_common.health import ReadinessChecks
from brigade_common.jetstream import stream_config
from brigade_common.runtime import Runtime
from brigade_contracts.streams import DLQ, KITCHEN, PAYMENTS, WAREHOUSE
from brigade_kitchen.adapters.admission import Admission
from brigade_kitchen.config import MIGRATIONS_DIR, SCHEMA, SERVICE, Settings
from brigade_kitchen.entrypoints.waiters import OrderWaiters

# The streams the kitchen publishes to or consumes from; each is created or updated idempotently.
STREAMS = [stream_config(**asdict(s)) for s in (KITCHEN, WAREHOUSE, PAYMENTS, DLQ)]


@dataclass
class Kitchen:
    settings: Settings
    runtime: Runtime
    waiters: OrderWaiters
    admission: Admission

    @property
    def db(self) -> asyncpg.Pool:
        return self.runtime.db

    def notify_outbox(self) -> None:
        self.runtime.notify_outbox()


@asynccontextmanager
async def open_kitchen(settings: Settings, readiness: ReadinessChecks | None = None) -> AsyncIterator[Kitchen]:
    from brigade_kitchen.entrypoints.consumers import consumer_specs

    runtime = await Runtime.start(
        SERVICE,
        nats_url=settings.nats_url,
        database_url=settings.database_url.get_secret_value(),
        schema=SCHEMA,
        pool_size=settings.database_pool_size,
        migrations_dir=MIGRATIONS_DIR,
        relay=settings.outbox_relay,
        streams=STREAMS,
        consumers=consumer_specs(settings),
        readiness=readiness,
    )
    waiters = OrderWaiters()
    try:
        await waiters.start(runtime.nc)
        yield Kitchen(settings, runtime, waiters, Admission(settings.max_concurrent_reservations))
    finally:
        await waiters.stop()
        await runtime.close()


def create_app(settings: Settings) -> Starlette:
    from brigade_common.auth.verifier import JwtVerifier
    from brigade_common.http import create_app as create_http_app
    from brigade_kitchen.entrypoints.http import api

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_kitchen(settings, readiness) as kitchen:
            app.state.kitchen = kitchen
            yield

    readiness = ReadinessChecks()
    app = create_http_app(service=SERVICE, routes=api.routes, lifespan=lifespan, readiness=readiness, openapi=api)
    app.state.jwt_verifier = JwtVerifier(
        settings.jwt_public_keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    return app
