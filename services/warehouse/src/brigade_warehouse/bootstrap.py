"""Wires the warehouse: runtime (database, NATS, outbox relay, supply consumer) and HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict

from starlette.applications import Starlette

from brigade_common.auth.verifier import JwtVerifier
from brigade_common.health import ReadinessChecks
from brigade_common.http import create_app as create_http_app
from brigade_common.jetstream import stream_config
from brigade_common.runtime import Runtime
from brigade_contracts.streams import DLQ, WAREHOUSE
from brigade_warehouse.config import MIGRATIONS_DIR, SCHEMA, SERVICE, Settings
from brigade_warehouse.entrypoints.consumers import consumer_specs

STREAMS = [stream_config(**asdict(s)) for s in (WAREHOUSE, DLQ)]


@asynccontextmanager
async def open_warehouse(settings: Settings, readiness: ReadinessChecks | None = None) -> AsyncIterator[Runtime]:
    runtime = await Runtime.start(
        SERVICE,
        nats_url=settings.nats_url,
        database_url=settings.database_url.get_secret_value(),
        schema=SCHEMA,
        pool_size=settings.database_pool_size,
        migrations_dir=MIGRATIONS_DIR,
        relay=settings.outbox_relay,
        streams=STREAMS,
        consumers=lambda rt: consumer_specs(settings, rt),
        readiness=readiness,
    )
    try:
        yield runtime
    finally:
        await runtime.close()


def create_app(settings: Settings) -> Starlette:
    from brigade_warehouse.entrypoints.http import api

    readiness = ReadinessChecks()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_warehouse(settings, readiness) as runtime:
            app.state.runtime = runtime
            yield

    app = create_http_app(service=SERVICE, routes=api.routes, lifespan=lifespan, readiness=readiness, openapi=api)
    app.state.jwt_verifier = JwtVerifier(
        settings.jwt_public_keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    return app
