"""The HTTP app of a service that opens its parts in the lifespan: the shape every service copies.

The service's `open_*` context manager builds its runtime (pool, NATS, consumers) and yields the
object its routes use, kept as `app.state.<state>`; readiness checks are added to as parts come up,
and the token verifier reaches NATS through the connection the runtime makes (`LateConnection`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.applications import Starlette

from brigade_common.auth.keysource import LateConnection
from brigade_common.auth.verifier import JwtVerifier
from brigade_common.health import ReadinessChecks
from brigade_common.http import create_app
from brigade_common.openapi import OpenAPI
from brigade_common.problems import ProblemMapper

OpenService = Callable[[ReadinessChecks, LateConnection], AbstractAsyncContextManager[Any]]


def service_app(
    service: str,
    openapi: OpenAPI,
    open_service: OpenService,
    *,
    state: str,
    verifier: Callable[[LateConnection], JwtVerifier],
    problems: Mapping[type[Exception], ProblemMapper] | None = None,
) -> Starlette:
    """`create_app` for `service` whose lifespan runs `open_service(readiness, connection)` and keeps
    what it yields as `app.state.<state>` while the app serves."""
    readiness = ReadinessChecks()
    connection = LateConnection()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_service(readiness, connection) as opened:
            setattr(app.state, state, opened)
            yield

    return create_app(
        service=service,
        openapi=openapi,
        lifespan=lifespan,
        readiness=readiness,
        problems=problems,
        jwt_verifier=verifier(connection),
    )
