"""Which headers cross the gateway, and the X-Forwarded-* it adds (as ingress-nginx does)."""

from __future__ import annotations

from starlette.types import Scope

# RFC 9110 §7.6.1: meaningful for one connection only, never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# The WebSocket client library makes its own handshake with the upstream.
WEBSOCKET_HANDSHAKE = frozenset(
    {
        "host",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
    }
)
# The gateway's server adds its own Date; a second one would be a duplicate header.
RESPONSE_DROPPED = HOP_BY_HOP | {"date"}

Headers = list[tuple[str, str]]


def _connection_tokens(headers: Headers) -> set[str]:
    return {
        token.strip().lower()
        for name, value in headers
        if name == "connection"
        for token in value.split(",")
        if token.strip()
    }


def without_hop_by_hop(headers: Headers, extra: frozenset[str] = frozenset()) -> Headers:
    """Drop hop-by-hop headers, those the Connection header names, and `extra`."""
    dropped = HOP_BY_HOP | extra | _connection_tokens(headers)
    return [(name, value) for name, value in headers if name not in dropped]


def scope_headers(scope: Scope) -> Headers:
    return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", [])]


def request_headers(scope: Scope, *, websocket: bool = False) -> Headers:
    """The client's headers for the upstream request, plus X-Forwarded-For/Proto/Host and X-Request-Id.

    The Host header passes through unchanged (like ingress-nginx), so upstream links name the public
    host. X-Forwarded-For is the client as the server resolved it: uvicorn already applied any
    X-Forwarded-For from a trusted proxy (FORWARDED_ALLOW_IPS) and ignored one from anyone else.
    """
    incoming = scope_headers(scope)
    headers = without_hop_by_hop(incoming, WEBSOCKET_HANDSHAKE if websocket else frozenset())
    replaced = ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host")
    headers = [(n, v) for n, v in headers if n not in replaced]
    client = scope.get("client")
    if client:
        headers.append(("x-forwarded-for", str(client[0])))
    scheme = str(scope["scheme"])
    headers.append(("x-forwarded-proto", {"ws": "http", "wss": "https"}.get(scheme, scheme)))
    host = next((v for n, v in incoming if n == "host"), None)
    if host:
        headers.append(("x-forwarded-host", host))
    request_id = scope.get("state", {}).get("request_id")
    if isinstance(request_id, str) and not any(n == "x-request-id" for n, _ in headers):
        headers.append(("x-request-id", request_id))
    return headers


def response_headers(headers: Headers) -> list[tuple[bytes, bytes]]:
    """The upstream's response headers for the client, as raw ASGI pairs (repeated ones kept)."""
    kept = without_hop_by_hop(headers, RESPONSE_DROPPED)
    return [(n.encode("latin-1"), v.encode("latin-1")) for n, v in kept]
