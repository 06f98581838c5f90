"""Prometheus metrics shared by every service, and the HTTP middleware and `/metrics` endpoint.

The metrics live in the default registry and are created exactly once, here, at import time (creating
a metric object is not I/O). Every label set carries `service`, so several apps built in one process
(tests) share the metrics without re-registering anything.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "brigade_http_requests_total",
    "HTTP requests handled, by route template and status code.",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "brigade_http_request_duration_seconds",
    "Time from receiving an HTTP request to the end of its response.",
    ["service", "method", "route"],
)
MESSAGES = Counter(
    "brigade_messages_total",
    "JetStream messages handled by a consumer, by outcome (ack, duplicate, nak, dlq).",
    ["service", "consumer", "outcome"],
)
OUTBOX_PUBLISHED = Counter(
    "brigade_outbox_published_total",
    "Outbox rows published to JetStream.",
    ["service"],
)
OUTBOX_LAG = Histogram(
    "brigade_outbox_lag_seconds",
    "Time from an outbox row's commit to its publication.",
    ["service"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)

DEPENDENCY_UP = Gauge(
    "brigade_dependency_up",
    "1 while the dependency (database, nats) answers, 0 while this process rides out its outage.",
    ["service", "dependency"],
)
DEPENDENCY_PROBES = Counter(
    "brigade_dependency_probes_total",
    "Probes of a dependency that is down (each retry of SELECT 1 or of the NATS connection).",
    ["service", "dependency"],
)

UNMATCHED_ROUTE = "<unmatched>"
CLIENT_CLOSED = 499  # nginx's status for a client that went away before the response


def route_template(scope: Scope) -> str:
    """The template of the route that handled `scope` (`/orders/{id}`), never the raw path."""
    route: BaseRoute | None = scope.get("route")
    path = getattr(route, "path", None)
    if route is None or not isinstance(path, str):
        return UNMATCHED_ROUTE
    if isinstance(route, Mount):
        return f"{path}/{{path}}"
    # Inside a Mount, root_path has grown by the mount's matched prefix.
    root_path: str = scope.get("root_path", "")
    prefix = root_path[len(scope.get("app_root_path", "")) :]
    return prefix + path


# How many label sets a middleware keeps resolved (routes × methods × statuses: a few dozen in use;
# past this, the rest are looked up per request as before).
MAX_RESOLVED = 1024


class MetricsMiddleware:
    """Pure ASGI middleware counting HTTP requests and timing them per route template.

    The metric children of each (method, route, status) are resolved once (`labels()` takes a lock
    and builds its key on every call) and kept."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self._resolved: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _children(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        key = (method, route, status)
        children = self._resolved.get(key)
        if children is None:
            children = (
                HTTP_REQUESTS.labels(self.service, method, route, str(status)),
                HTTP_DURATION.labels(self.service, method, route),
            )
            if len(self._resolved) < MAX_RESOLVED:
                self._resolved[key] = children
        return children

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except ClientDisconnect:
            status = CLIENT_CLOSED
            raise
        finally:
            requests, duration = self._children(scope["method"], route_template(scope), status)
            requests.inc()
            duration.observe(time.perf_counter() - start)


async def metrics_endpoint(request: Request) -> Response:
    """`GET /metrics`: the default registry in the Prometheus text exposition format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
