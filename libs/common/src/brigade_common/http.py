"""The HTTP side of every service: the app factory, request context, and JSON in and out.

`create_app` gives each service the same shape: problem+json errors, a request id and correlation id
bound into the structlog context of everything the request does (and echoed as `X-Request-Id`), one
`http_request` log line and Prometheus metrics per request, and `/healthz`, `/readyz`, `/metrics` and
`/api/<service>/openapi.json`.
"""

from __future__ import annotations

import re
import time
import typing
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import pydantic_core
import structlog
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Lifespan, Message, Receive, Scope, Send

from brigade_common.auth.verifier import JwtVerifier
from brigade_common.health import ReadinessChecks, healthz, readyz
from brigade_common.metrics import CLIENT_CLOSED, MetricsMiddleware, metrics_endpoint
from brigade_common.openapi import OpenAPI
from brigade_common.problems import (
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    install_problem_handlers,
    internal_error_response,
    validation_problem,
)

M = TypeVar("M", bound=BaseModel)

DEFAULT_MAX_BYTES = 64 * 1024
REQUEST_ID_HEADER = "X-Request-Id"
CORRELATION_ID_HEADER = "Correlation-Id"
# Probes and scrapes arrive every few seconds; their log lines would drown the real traffic.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_INCOMING_ID = re.compile(r"^[\x21-\x7e]{1,128}$")

_log = structlog.get_logger("brigade_common.http")


# ------------------------------------------------------------------------------------------ JSON I/O


async def parse_json(request: Request, model: type[M], *, max_bytes: int = DEFAULT_MAX_BYTES) -> M:
    """Read the body as `model`: 415 unless `application/json`, 413 past `max_bytes` (counted while
    reading, whatever Content-Length says), 400 for malformed JSON, 422 naming each invalid field.

    Validation is strict (JSON `"5"` is not an int). The raw body stays available as `request.body()`.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            f"expected Content-Type application/json, got {media_type or 'none'}", field="content-type"
        )
    too_large = PayloadTooLarge(f"the body must be at most {max_bytes} bytes", field="body")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # so request.body() still works for whoever comes next (fingerprints)
    try:
        return model.model_validate_json(body, strict=True)
    except ValidationError as exc:
        invalid = [e for e in exc.errors(include_url=False) if e["type"] == "json_invalid"]
        if invalid:
            raise BadRequest(invalid[0]["msg"], type="malformed-json", field="body") from None
        raise validation_problem(exc) from None


def _is_multi(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_multi(arg) for arg in typing.get_args(annotation)) if origin is not None else False


def parse_query(request: Request, model: type[M]) -> M:
    """Read the query string as `model` (lax: "5" is an int here); 422 naming each invalid parameter.
    Fields typed as lists collect repeated parameters (`?tag=a&tag=b`)."""
    multi = {
        name
        for field_name, info in model.model_fields.items()
        if _is_multi(info.annotation)
        for name in (field_name, info.alias)
        if name
    }
    params = request.query_params
    data = {key: params.getlist(key) if key in multi else params[key] for key in params}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc, detail="The query has invalid parameters.") from None


def json_response(model_or_data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response from a pydantic model, a list of them, or plain data (JSON mode, by alias)."""
    return Response(
        pydantic_core.to_json(model_or_data, by_alias=True),
        status_code=status,
        headers=dict(headers) if headers else None,
        media_type="application/json",
    )


# ---------------------------------------------------------------------------------- request context


def current_request_id() -> str | None:
    """The id of the HTTP request being served in this context, if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


def current_correlation_id() -> str | None:
    """The correlation id bound for this request (the caller's `Correlation-Id` or the request id)."""
    value = structlog.contextvars.get_contextvars().get("correlation_id")
    return value if isinstance(value, str) else None


def _incoming_id(scope: Scope, header: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == header:
            text = value.decode("latin-1")
            return text if _INCOMING_ID.match(text) else None
    return None


class RequestContextMiddleware:
    """Pure ASGI middleware: binds request and correlation ids, logs each request, contains crashes.

    An exception that escapes the app before the response started is logged once (with the request
    id) and answered with a bare 500 problem; it does not reach the server's own error logging.
    """

    def __init__(self, app: ASGIApp, *, debug: bool = False) -> None:
        self.app = app
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope, b"x-request-id") or uuid.uuid4().hex
        correlation_id = _incoming_id(scope, b"correlation-id") or request_id
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["correlation_id"] = correlation_id
        with structlog.contextvars.bound_contextvars(request_id=request_id, correlation_id=correlation_id):
            if scope["type"] == "http":
                await self._http(scope, receive, send, request_id)
            else:
                await self._websocket(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        status: int | None = None
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except ClientDisconnect:
            status = CLIENT_CLOSED  # nobody is left to answer; not an error of ours
        except Exception as exc:
            if status is not None or self.debug:
                raise  # too late for a problem response; the app's 500 handler logs it
            response = internal_error_response(Request(scope), exc)
            await response(scope, receive, send_wrapper)
        finally:
            path = scope["path"]
            log = _log.debug if path in QUIET_PATHS else _log.info
            log(
                "http_request",
                method=scope["method"],
                path=path,
                status=status if status is not None else 500,
                duration_ms=round((time.perf_counter() - start) * 1000, 2),
            )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            _log.info(
                "websocket_session",
                path=scope["path"],
                duration_ms=round((time.perf_counter() - start) * 1000, 2),
            )


# --------------------------------------------------------------------------------------- app factory


def create_app(
    *,
    service: str,
    routes: Sequence[BaseRoute],
    lifespan: Lifespan[Starlette] | None = None,
    readiness: ReadinessChecks | None = None,
    openapi: OpenAPI | None = None,
    debug: bool = False,
    jwt_verifier: JwtVerifier | None = None,
    middleware: Sequence[Middleware] = (),
) -> Starlette:
    """A Starlette app for `service` with Brigade's errors, logging, metrics and operational routes.

    `readiness` is kept as `app.state.readiness` (add checks to it in the lifespan, once the pool and
    NATS connection exist); `jwt_verifier` becomes `app.state.jwt_verifier` for `require_principal`;
    `middleware` runs inside the request-context and metrics middleware.
    """
    api = openapi if openapi is not None else OpenAPI(title=f"Brigade {service}", version="0.0.0")
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
    install_problem_handlers(app)
    app.state.service = service
    app.state.readiness = readiness if readiness is not None else ReadinessChecks()
    app.state.openapi = api
    app.state.jwt_verifier = jwt_verifier
    return app
