"""The session cookies a browser holds (API clients use the JSON answer and `Authorization: Bearer`).

- `brigade_access`: the access token, httpOnly, for every path (each service reads it,
  brigade_common.auth.requests);
- `brigade_refresh`: the refresh token, httpOnly, sent only to the auth service's own paths;
- `brigade_csrf`: readable by the page's script, which echoes it as `X-CSRF-Token` on unsafe
  requests when the browser sends no `Origin` (double submit).

All `SameSite=Lax` (not sent on cross-site sub-requests), `Secure` wherever the site is HTTPS.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.responses import Response

from brigade_auth.service.handlers import SignedIn
from brigade_common.auth.requests import ACCESS_COOKIE, CSRF_COOKIE

REFRESH_COOKIE = "brigade_refresh"
REFRESH_PATH = "/api/auth"


@dataclass(frozen=True)
class SessionCookies:
    secure: bool

    def set(self, response: Response, signed: SignedIn) -> None:
        secure = self.secure
        access, refresh = signed.access, signed.refresh_token
        response.set_cookie(ACCESS_COOKIE, access.token, access.expires_in, path="/", secure=secure, httponly=True)
        response.set_cookie(
            REFRESH_COOKIE, refresh, signed.refresh_expires_in, path=REFRESH_PATH, secure=secure, httponly=True
        )
        response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(24), signed.refresh_expires_in, path="/", secure=secure)

    def clear(self, response: Response) -> None:
        for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_PATH), (CSRF_COOKIE, "/")):
            response.delete_cookie(name, path=path, secure=self.secure, httponly=name != CSRF_COOKIE, samesite="lax")

    @staticmethod
    def refresh_token(conn: HTTPConnection) -> str | None:
        return conn.cookies.get(REFRESH_COOKIE) or None
