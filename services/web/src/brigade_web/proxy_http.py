"""HTTP proxying: bodies stream both ways through one shared `httpx.AsyncClient`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
import structlog
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from brigade_web.config import Settings
from brigade_web.headers import request_headers, response_headers
from brigade_web.problems import restarting, send_problem, timed_out, unreachable

log = structlog.get_logger("brigade_web.proxy")


def create_client(settings: Settings) -> httpx.AsyncClient:
    """The client every proxied request shares (connection pooling per upstream)."""
    timeout = httpx.Timeout(
        connect=settings.upstream_connect_timeout_s,
        read=settings.upstream_read_timeout_s,
        write=settings.upstream_read_timeout_s,
        pool=settings.upstream_connect_timeout_s,
    )
    # Idle connections are dropped before uvicorn's own 5 s keep-alive timeout closes them under us.
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=64, keepalive_expiry=2.0)
    # trust_env=False: loopback upstreams must never go through an HTTP(S)_PROXY from the environment.
    # A jar that keeps nothing: httpx stores every Set-Cookie it sees and sends it on any later request
    # without a Cookie header, which here would sign a signed-out visitor in as whoever signed in last.
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    client = httpx.AsyncClient(
        timeout=timeout, limits=limits, trust_env=False, follow_redirects=False, cookies=no_cookies
    )
    # No default Accept-Encoding, User-Agent…: the upstream must see exactly what the client sent.
    for name in list(client.headers):
        del client.headers[name]
    return client


def upstream_url(base: str, scope: Scope) -> httpx.URL:
    """`base` with the request's path (still percent-encoded, as received) and query string."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    return httpx.URL(base).copy_with(raw_path=raw_path + (b"?" + query if query else b""))


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return bytes(value).strip() != b"0"
        if name == b"transfer-encoding":
            return True
    return False


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


async def proxy_http(
    client: httpx.AsyncClient, component: str, base: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """Forward the request to `base` and stream the answer back, status and headers unchanged."""
    request = Request(scope, receive)
    upstream_request = client.build_request(
        scope["method"],
        upstream_url(base, scope),
        headers=request_headers(scope),
        content=_body(request) if _has_body(scope) else None,
    )
    try:
        response = await client.send(upstream_request, stream=True)
    except httpx.TimeoutException:
        await send_problem(timed_out(component), scope, receive, send)
        return
    except httpx.ConnectError as exc:
        log.warning("upstream_restarting", component=component, url=base, error=str(exc) or type(exc).__name__)
        await send_problem(restarting(component), scope, receive, send)
        return
    except httpx.TransportError as exc:
        log.warning("upstream_unreachable", component=component, url=base, error=str(exc) or type(exc).__name__)
        await send_problem(unreachable(component, type(exc).__name__), scope, receive, send)
        return
    try:
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response_headers(list(response.headers.multi_items())),
            }
        )
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except httpx.HTTPError as exc:
        # Too late for an error response: ending without the final chunk makes the server drop the
        # connection, so the client sees a truncated response rather than a complete-looking one.
        log.warning("upstream_response_broken", component=component, error=str(exc) or type(exc).__name__)
    finally:
        await response.aclose()
