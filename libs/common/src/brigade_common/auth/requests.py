"""The caller of an HTTP request: its access token, verified by the app's `JwtVerifier`.

An API client sends `Authorization: Bearer <token>`; a browser holds the token in the httpOnly
`brigade_access` cookie (set by the auth service). Tokens never travel in a URL (URLs end up in
access logs, browser history and `Referer` headers).

A cookie goes with every request the browser makes to the site, whoever made the page that asked,
so an unsafe request (POST, PUT, PATCH, DELETE) authenticated by the cookie must also show it comes
from the site itself: an `Origin` header naming the request's own host, or an `X-CSRF-Token` header
equal to the `brigade_csrf` cookie (double submit, for clients that send no Origin).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from brigade_common.auth.verifier import JwtVerifier, Principal
from brigade_common.problems import Forbidden

ACCESS_COOKIE = "brigade_access"
CSRF_COOKIE = "brigade_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token(conn: HTTPConnection) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def requested_host(conn: HTTPConnection) -> str:
    """The host the client addressed: `X-Forwarded-Host` when a proxy in front set it (the gateway's
    WebSocket handshake names the upstream in `Host`), else `Host`. A page on another site cannot
    set either (a browser refuses both to scripts), so it cannot pass for this one."""
    forwarded = conn.headers.get("x-forwarded-host", "").split(",")[0].strip()
    return (forwarded or conn.headers.get("host", "")).lower()


def same_origin(conn: HTTPConnection) -> bool:
    """Whether the request shows it comes from the site itself: an `Origin` naming the host the
    client addressed, or (for clients that send no Origin) an `X-CSRF-Token` equal to the
    `brigade_csrf` cookie."""
    origin = conn.headers.get("origin")
    if origin:
        return urlsplit(origin).netloc.lower() == requested_host(conn)
    csrf = conn.cookies.get(CSRF_COOKIE)
    sent = conn.headers.get(CSRF_HEADER)
    return bool(csrf and sent and hmac.compare_digest(csrf, sent))


def cross_site() -> Forbidden:
    return Forbidden(
        "a request signed in by cookie must come from this site: send Origin, or X-CSRF-Token",
        type="cross-site-request",
        field="Origin",
    )


def credentials(conn: HTTPConnection) -> str | None:
    """The request's access token: the bearer header, else the cookie (checked for cross-site use)."""
    token = bearer_token(conn)
    if token is not None:
        return token
    cookie = conn.cookies.get(ACCESS_COOKIE)
    if not cookie:
        return None
    require_same_site(conn)
    return cookie


def require_same_site(conn: HTTPConnection) -> None:
    """For a request that a cookie authenticates: an unsafe one must come from the site itself
    (`same_origin`), else `Forbidden` (type `cross-site-request`)."""
    method = conn.scope.get("method", "GET")
    if method not in SAFE_METHODS and not same_origin(conn):
        raise cross_site()


def handshake_token(conn: HTTPConnection) -> str | None:
    """The access token of a WebSocket handshake: the cookie, which a browser sends with a handshake
    from any site, so only with an `Origin` naming this one (cross-site WebSocket hijacking);
    `Forbidden` otherwise. None without a cookie: the socket authenticates by its first message."""
    cookie = conn.cookies.get(ACCESS_COOKIE)
    if not cookie:
        return None
    origin = conn.headers.get("origin")
    if not origin or urlsplit(origin).netloc.lower() != requested_host(conn):
        raise cross_site()
    return cookie


async def require_principal(request: HTTPConnection, *, roles: Iterable[str] | None = None) -> Principal:
    """The caller's principal (verified with `request.app.state.jwt_verifier`), also stored as
    `request.state.principal`. With `roles`, the caller must hold at least one of them (`Forbidden`)."""
    verifier: JwtVerifier | None = getattr(request.app.state, "jwt_verifier", None)
    if verifier is None:
        raise RuntimeError("app.state.jwt_verifier is not set: pass jwt_verifier= to create_app")
    principal = await verifier.authenticate(credentials(request))
    wanted = frozenset(roles or ())
    if wanted and not principal.has_any_role(wanted):
        raise Forbidden(f"requires one of the roles: {', '.join(sorted(wanted))}", type="insufficient-role")
    request.state.principal = principal
    return principal
