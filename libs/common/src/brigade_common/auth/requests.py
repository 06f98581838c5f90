"""The caller of an HTTP request: its bearer token, verified by the app's `JwtVerifier`.

Tokens travel in the `Authorization` header only, never in a URL (URLs end up in access logs,
browser history and `Referer` headers).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import HTTPConnection

from brigade_common.auth.verifier import JwtVerifier, Principal
from brigade_common.problems import Forbidden


def bearer_token(conn: HTTPConnection) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def require_principal(request: HTTPConnection, *, roles: Iterable[str] | None = None) -> Principal:
    """The caller's principal (verified with `request.app.state.jwt_verifier`), also stored as
    `request.state.principal`. With `roles`, the caller must hold at least one of them (`Forbidden`)."""
    verifier: JwtVerifier | None = getattr(request.app.state, "jwt_verifier", None)
    if verifier is None:
        raise RuntimeError("app.state.jwt_verifier is not set: pass jwt_verifier= to create_app")
    principal = verifier.verify(bearer_token(request))
    wanted = frozenset(roles or ())
    if wanted and not principal.has_any_role(wanted):
        raise Forbidden(f"requires one of the roles: {', '.join(sorted(wanted))}", type="insufficient-role")
    request.state.principal = principal
    return principal
