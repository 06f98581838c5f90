"""The HTTP side of every service: the app factory, and JSON out.

`create_app` gives each service the same shape: problem+json errors (the service's own exceptions
mapped in one table), the request context (brigade_common.http_context: request and correlation
ids in every log line, one `http_request` line per request), Prometheus metrics, and `/healthz`,
`/readyz`, `/metrics` and `/api/<service>/openapi.json`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pydantic_core
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Lifespan

from brigade_common.auth.verifier import JwtVerifier
from brigade_common.health import ReadinessChecks, healthz, readyz
from brigade_common.http_context import RequestContextMiddleware
from brigade_common.metrics import MetricsMiddleware, metrics_endpoint
from brigade_common.openapi import OpenAPI
from brigade_common.problems import ProblemMapper, install_problem_handlers

# ------------------------------------------------------------------------------------------ JSON out


def json_response(model_or_data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response from a pydantic model, a list of them, or plain data (JSON mode, by alias)."""
    return Response(
        pydantic_core.to_json(model_or_data, by_alias=True),
        status_code=status,
        headers=dict(headers) if headers else None,
        media_type="application/json",
    )


# --------------------------------------------------------------------------------------- app factory


def create_app(
    *,
    service: str,
    routes: Sequence[BaseRoute] | None = None,
    lifespan: Lifespan[Starlette] | None = None,
    readiness: ReadinessChecks | None = None,
    openapi: OpenAPI | None = None,
    debug: bool = False,
    jwt_verifier: JwtVerifier | None = None,
    middleware: Sequence[Middleware] = (),
    problems: Mapping[type[Exception], ProblemMapper] | None = None,
) -> Starlette:
    """A Starlette app for `service` with Brigade's errors, logging, metrics and operational routes.

    `routes` defaults to the routes `openapi` declares. `readiness` is kept as `app.state.readiness`
    (add checks to it in the lifespan, once the pool and NATS connection exist); `jwt_verifier`
    becomes `app.state.jwt_verifier` for `require_principal`; `middleware` runs inside the
    request-context and metrics middleware; `problems` maps the service's exceptions to the problem
    each one is (the service's one place for that).
    """
    api = openapi if openapi is not None else OpenAPI(title=f"Brigade {service}", version="0.0.0")
    if routes is None:
        routes = api.routes
    builtin: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route(f"/api/{service}/openapi.json", api.endpoint, methods=["GET"]),
    ]
    app = Starlette(
        debug=debug,
        routes=[*builtin, *routes],
        middleware=[
            Middleware(RequestContextMiddleware, debug=debug),
            Middleware(MetricsMiddleware, service=service),
            *middleware,
        ],
        lifespan=lifespan,
    )
    install_problem_handlers(app, problems or {})
    app.state.service = service
    app.state.readiness = readiness if readiness is not None else ReadinessChecks()
    app.state.openapi = api
    app.state.jwt_verifier = jwt_verifier
    return app
