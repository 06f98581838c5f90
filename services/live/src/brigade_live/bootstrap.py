"""Wires the live service: NATS, the hub following every channel's stream, and the WebSocket app.
Nothing here decides anything; nothing opens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from brigade_common.auth.keysource import LateConnection
from brigade_common.health import ReadinessChecks
from brigade_common.http import create_app as create_http_app
from brigade_common.runtime import Runtime
from brigade_live.adapters.jetstream import JetStreamLog
from brigade_live.config import SERVICE, Settings
from brigade_live.definition import LIVE
from brigade_live.entrypoints.ws import SocketLimits, api
from brigade_live.service.channels import CHANNELS
from brigade_live.service.hub import Hub, HubSettings


@asynccontextmanager
async def open_hub(
    settings: Settings, readiness: ReadinessChecks | None = None, connection: LateConnection | None = None
) -> AsyncIterator[Hub]:
    """The hub, following every channel, until the context exits."""
    runtime = await Runtime.open(LIVE, settings, readiness)
    if connection is not None:
        connection.nc = runtime.nc  # the verifier asks the auth service for its keys over it
    hub = Hub(
        JetStreamLog(runtime.nc.jetstream()),
        CHANNELS,
        HubSettings(replay_page=settings.replay_page, held_frames=settings.held_frames),
    )
    try:
        await hub.start()
        yield hub
    finally:
        await hub.stop()
        await runtime.close()


def create_app(settings: Settings) -> Starlette:
    readiness = ReadinessChecks()
    connection = LateConnection()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_hub(settings, readiness, connection) as hub:
            app.state.hub = hub
            yield

    app = create_http_app(
        service=SERVICE,
        openapi=api,
        lifespan=lifespan,
        readiness=readiness,
        jwt_verifier=settings.jwt_verifier(connection),
    )
    app.state.socket_limits = SocketLimits(settings.auth_grace_s, settings.ping_s, settings.queue_frames)
    return app
