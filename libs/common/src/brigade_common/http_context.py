"""The request context: a request id and a correlation id for every HTTP request and WebSocket.

`RequestContextMiddleware` takes the caller's `X-Request-Id` and `Correlation-Id` (or makes them:
the correlation id defaults to the request id), binds both into the structlog context of everything
the request does, echoes `X-Request-Id`, logs one `http_request` line per request and turns a crash
into a bare 500 problem. A malformed or oversized id is refused at the edge with a 400 naming the
header, never carried into the logs and events. `message_context` gives what the messages a
request causes carry: the same correlation id.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brigade_common.dependencies import unavailable
from brigade_common.messaging import MessageContext
from brigade_common.metrics import CLIENT_CLOSED
from brigade_common.problems import BadRequest, internal_error_response, problem_response

REQUEST_ID_HEADER = "X-Request-Id"
CORRELATION_ID_HEADER = "Correlation-Id"
# Probes and scrapes arrive every few seconds; their log lines would drown the real traffic.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_INCOMING_ID = re.compile(r"^[\x21-\x7e]{1,128}$")

_log = structlog.get_logger("brigade_common.http")


class MalformedId(Exception):
    def __init__(self, header: str) -> None:
        super().__init__(header)
        self.header = header


def _incoming_id(scope: Scope, header: str) -> str | None:
    """The caller's id in `header`, None when absent; `MalformedId` when it is not 1 to 128 visible
    ASCII characters (it would go into every log line and event of the request)."""
    wanted = header.lower().encode()
    for name, value in scope.get("headers", []):
        if name.lower() == wanted:
            text: str = value.decode("latin-1")
            if not _INCOMING_ID.match(text):
                raise MalformedId(header)
            return text
    return None


def message_context(request: HTTPConnection) -> MessageContext:
    """The context the messages a request causes carry: its correlation id (the middleware's)."""
    return MessageContext(correlation_id=request.state.correlation_id)


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
        try:
            request_id = _incoming_id(scope, REQUEST_ID_HEADER) or uuid.uuid4().hex
            correlation_id = _incoming_id(scope, CORRELATION_ID_HEADER) or request_id
        except MalformedId as bad:
            await self._refuse(scope, receive, send, bad.header)
            return
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["correlation_id"] = correlation_id
        with structlog.contextvars.bound_contextvars(request_id=request_id, correlation_id=correlation_id):
            if scope["type"] == "http":
                await self._http(scope, receive, send, request_id)
            else:
                await self._websocket(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, header: str) -> None:
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        problem = BadRequest(f"{header} must be 1 to 128 visible ASCII characters", field=header, type="invalid-header")
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": problem.title})
            return
        response = problem_response(problem, instance=scope["path"], request_id=request_id)
        response.headers["x-request-id"] = request_id
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            _log.info("http_request", method=scope["method"], path=scope["path"], status=400, duration_ms=0.0)
        await response(scope, receive, send)

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
            if status is not None and unavailable(exc) is not None:
                pass  # answered 503 and logged as a warning already: an outage is no traceback per request
            elif status is not None or self.debug:
                raise  # too late for a problem response; the app's 500 handler logs it
            else:
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
