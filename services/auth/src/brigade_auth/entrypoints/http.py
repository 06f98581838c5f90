"""Auth HTTP routes under /api/auth (and the JWKS at /.well-known/jwks.json): each declares its
inputs, calls one use case, responds. Errors are answered by `PROBLEMS`, never caught here."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from brigade_auth.domain.errors import (
    EmailTaken,
    InvalidCredentials,
    InvalidEmail,
    LastAdmin,
    RefreshRefused,
    TooManyAttempts,
    UnknownUser,
    WeakPassword,
)
from brigade_auth.entrypoints.cookies import SessionCookies
from brigade_auth.entrypoints.schemas import (
    JwksOut,
    RolesBody,
    SessionOut,
    SignInBody,
    SignUpBody,
    UserOut,
    UserPath,
    UsersQuery,
)
from brigade_auth.service import commands
from brigade_auth.service.auth import Auth
from brigade_auth.service.handlers import SignedIn
from brigade_common.auth.requests import require_same_site
from brigade_common.auth.verifier import Principal
from brigade_common.http import json_response
from brigade_common.messaging import MessageContext
from brigade_common.openapi import OpenAPI
from brigade_common.pagination import Page, time_cursor
from brigade_common.problems import Conflict, NotFound, Problem, ProblemMapper, Unauthorized, Unprocessable
from brigade_contracts.auth import Role

PREFIX = "/api/auth"
JWKS_PATH = "/.well-known/jwks.json"
STAFF = frozenset({Role.STAFF.value, Role.ADMIN.value})
ADMIN = frozenset({Role.ADMIN.value})
api = OpenAPI(title="Brigade auth", version="1.0.0")


def _too_many(e: Exception) -> Problem:
    assert isinstance(e, TooManyAttempts)
    return Problem(
        str(e),
        status=429,
        type="too-many-attempts",
        title="Too Many Requests",
        headers={"Retry-After": str(e.retry_after_s)},
    )


# The auth service's errors as HTTP answers: the one place they are mapped.
PROBLEMS: Mapping[type[Exception], ProblemMapper] = {
    InvalidEmail: lambda e: Unprocessable(str(e), type="invalid-email", field="email"),
    WeakPassword: lambda e: Unprocessable(str(e), type="weak-password", field="password"),
    EmailTaken: lambda e: Conflict(str(e), type="email-taken", field="email"),
    # One answer for an unknown address and a wrong password: which one it was is not said.
    InvalidCredentials: lambda e: Unauthorized(str(e), type="invalid-credentials"),
    TooManyAttempts: _too_many,
    RefreshRefused: lambda e: Unauthorized(str(e), type="invalid-refresh-token"),
    UnknownUser: lambda e: NotFound(str(e), type="unknown-user"),
    LastAdmin: lambda e: Conflict(str(e), type="last-admin", field="roles"),
}
TOO_MANY = Problem  # documented as problem+json, like every other refusal


def _auth(request: Request) -> Auth:
    auth: Auth = request.app.state.auth
    return auth


def _cookies(request: Request) -> SessionCookies:
    cookies: SessionCookies = request.app.state.session_cookies
    return cookies


def _session(request: Request, signed: SignedIn) -> Response:
    # Token answers are never stored by a cache (RFC 6749 §5.1).
    response = json_response(SessionOut.of(signed), headers={"Cache-Control": "no-store"})
    _cookies(request).set(response, signed)
    return response


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# ---------------------------------------------------------------------------------------- sessions


@api.route(
    "POST",
    f"{PREFIX}/signup",
    body=SignUpBody,
    responses={201: UserOut, 409: Conflict},
    summary="Create an account (a customer); sign in afterwards",
)
async def sign_up(request: Request, *, body: SignUpBody, context: MessageContext) -> Response:
    cmd = commands.SignUp(str(uuid.uuid4()), body.email, body.password, body.display_name)
    user = await _auth(request).handle(cmd, context=context)
    return json_response(UserOut.of(user), status=201, headers={"Location": f"{PREFIX}/users/{user.id}"})


@api.route(
    "POST",
    f"{PREFIX}/signin",
    body=SignInBody,
    responses={200: SessionOut, 401: Unauthorized, 429: TOO_MANY},
    summary="Sign in: an access token (also set as cookies, with the refresh token)",
    description="An unknown address and a wrong password get the same 401. Too many attempts for one "
    "account or from one address within AUTH_SIGNIN_WINDOW_S get 429 with `Retry-After`.",
)
async def sign_in(request: Request, *, body: SignInBody, context: MessageContext) -> Response:
    cmd = commands.SignIn(body.email, body.password, _address(request))
    return _session(request, await _auth(request).sign_in(cmd, context=context))


@api.route(
    "POST",
    f"{PREFIX}/refresh",
    responses={200: SessionOut, 401: Unauthorized, 403: Problem},
    summary="A new access token for the refresh cookie (which is replaced: each one works once)",
    description="Presenting a refresh token a second time revokes its whole session.",
)
async def refresh(request: Request, *, context: MessageContext) -> Response:
    token = SessionCookies.refresh_token(request)
    if token is None:
        raise Unauthorized("no refresh token: sign in", type="invalid-refresh-token")
    require_same_site(request)
    return _session(request, await _auth(request).handle(commands.Refresh(token), context=context))


@api.route(
    "POST",
    f"{PREFIX}/signout",
    responses={204: None, 403: Problem},
    summary="Sign out: the session's refresh tokens are revoked and the cookies cleared",
)
async def sign_out(request: Request, *, context: MessageContext) -> Response:
    token = SessionCookies.refresh_token(request)
    if token is not None:
        require_same_site(request)
    await _auth(request).handle(commands.SignOut(token), context=context)
    response = Response(status_code=204)
    _cookies(request).clear(response)
    return response


@api.route("GET", f"{PREFIX}/me", auth=True, responses={200: UserOut, 404: NotFound}, summary="The signed-in user")
async def me(request: Request, *, principal: Principal) -> Response:
    user = await _auth(request).views.user(principal.sub)
    if user is None:
        raise UnknownUser(principal.sub)
    return json_response(UserOut.of(user))


# ------------------------------------------------------------------------------------------- users


@api.route(
    "GET",
    f"{PREFIX}/users",
    auth=STAFF,
    query=UsersQuery,
    responses={200: Page[UserOut]},
    summary="Users holding a role (customers by default), newest first (staff)",
)
async def list_users(request: Request, *, query: UsersQuery, principal: Principal) -> Response:
    rows = await _auth(request).views.users(query.role, before=query.before(), limit=query.limit + 1)
    page = rows[: query.limit]
    nxt = time_cursor(page[-1].created_at, page[-1].id) if len(rows) > query.limit else None
    return json_response(Page[UserOut](items=[UserOut.of(u) for u in page], next_cursor=nxt))


@api.route(
    "GET",
    f"{PREFIX}/users/{{user_id}}",
    auth=STAFF,
    path_params=UserPath,
    responses={200: UserOut, 404: NotFound},
    summary="One user (staff)",
)
async def get_user(request: Request, *, user_id: uuid.UUID, principal: Principal) -> Response:
    user = await _auth(request).views.user(str(user_id))
    if user is None:
        raise UnknownUser(str(user_id))
    return json_response(UserOut.of(user))


@api.route(
    "PATCH",
    f"{PREFIX}/users/{{user_id}}/role",
    auth=ADMIN,
    path_params=UserPath,
    body=RolesBody,
    responses={200: UserOut, 404: NotFound, 409: Conflict},
    summary="Set a user's roles (admins only); the next access token of that user carries them",
)
async def change_roles(
    request: Request, *, user_id: uuid.UUID, body: RolesBody, principal: Principal, context: MessageContext
) -> Response:
    cmd = commands.ChangeRoles(str(user_id), frozenset(body.roles), by=principal.sub)
    return json_response(UserOut.of(await _auth(request).handle(cmd, context=context)))


# -------------------------------------------------------------------------------------------- keys


@api.route("GET", JWKS_PATH, responses={200: JwksOut}, summary="The public keys access tokens are signed with")
async def jwks(request: Request) -> Response:
    # Short: a verifier that fetches over HTTP sees a rotated key within a minute.
    return json_response({"keys": await _auth(request).jwks()}, headers={"Cache-Control": "public, max-age=60"})
