"""The web app: Brigade's standard app shell (health, metrics, problems) around the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from starlette.applications import Starlette
from starlette.routing import Mount

from brigade_common.http import create_app
from brigade_common.openapi import OpenAPI
from brigade_web.config import SERVICE, Settings
from brigade_web.gateway import Gateway
from brigade_web.proxy_http import create_client
from brigade_web.routing import RouteTable, load_routes

log = structlog.get_logger("brigade_web")


def build_app(settings: Settings) -> Starlette:
    """The gateway app; the route file is read now, so a bad one fails at start-up, naming itself."""
    routes = load_routes(settings.routes_file) if settings.routes_file else RouteTable([])
    gateway = Gateway(settings, routes)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with create_client(settings) as client:
            gateway.client = client
            unrouted = sorted(routes.components - set(gateway.upstreams) - {SERVICE})
            log.info(
                "gateway_started",
                upstreams=gateway.upstreams,
                not_running=unrouted,
                static_dir=str(settings.static_dir),
            )
            yield
            gateway.client = None

    return create_app(service=SERVICE, routes=[Mount("/", app=gateway)], lifespan=lifespan, openapi=_openapi(routes))


def _openapi(routes: RouteTable) -> OpenAPI:
    """What the web service answers itself: the app. What it forwards is each service's to document
    (at `/api/<service>/openapi.json`, through this gateway too); the description lists the prefixes."""
    forwarded = ", ".join(f"`{r.prefix}`" for r in sorted(routes.routes, key=lambda r: r.prefix) if r.prefix != "/")
    api = OpenAPI(
        title="Brigade web",
        version="1.0.0",
        description="The single-page app. Locally, also the gateway that forwards "
        + (forwarded or "nothing")
        + " to the service behind each prefix, like the Ingress; those APIs document themselves.",
    )
    api.describe(
        "GET",
        "/",
        operation_id="app",
        summary="The single-page app (index.html for client routes)",
        responses={200: None},
    )
    return api
