"""The security matrix: every route of every service of the catalog, and how it refuses a caller.

Generated from the catalog (brigade_common.catalog): each service's app is built as
tests/contract/documents.py builds it (placeholder settings, trusting the contract key, never
started) and every Starlette route it serves is listed. A route is either declared with `auth`
(any signed-in caller, or some roles) or public on purpose, in `PUBLIC` below with the reason; a new
route that is neither fails `test_every_route_is_secured_or_public_on_purpose`, so no route escapes.

Each secured operation is then called with every kind of bad credential a client can send and
must answer 401 (a bad or missing token, with a `WWW-Authenticate` challenge), 403 (a role it does
not hold; a cookie on an unsafe request that does not show it comes from the site), and must let
the right caller past. The refusals all happen before the endpoint touches a database, so the apps
need none. Every WebSocket signs in by its own protocol (a cookie from the site, or a first frame)
and is served for real to be refused the same ways. Someone else's resource (404) needs data:
tests/e2e/test_ownership.py.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from brigade_common.auth.keys import generate_key
from brigade_common.auth.requests import ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, SAFE_METHODS
from brigade_common.auth.tokens import mint_token
from brigade_common.routing import Operation
from brigade_common.testing.serving import serving
from brigade_contracts.auth import Role
from tests.contract import identities
from tests.contract.documents import built_app
from tests.e2e.harness import installed

HOST = "brigade.test"

# Routes anyone may call, and why. Keyed by (service, method, path template).
PUBLIC: dict[tuple[str, str, str], str] = {
    ("kitchen", "GET", "/api/kitchen/dishes"): "the menu is for everyone, signed in or not",
    ("kitchen", "GET", "/api/kitchen/dishes/today"): "today's menu is the shop window",
    ("kitchen", "GET", "/api/kitchen/dishes/{dish_id}"): "one dish of the menu",
    ("kitchen", "GET", "/api/kitchen/images/{digest}"): "a dish's picture, as the public menu shows it",
    ("auth", "POST", "/api/auth/signup"): "anyone may become a customer",
    ("auth", "POST", "/api/auth/signin"): "signing in is how a caller gets a token (throttled)",
    ("auth", "POST", "/api/auth/refresh"): "the refresh token in its cookie or body is the credential",
    ("auth", "POST", "/api/auth/signout"): "revokes the refresh token it is given; without one, only clears cookies",
    ("auth", "GET", "/.well-known/jwks.json"): "the public keys tokens are verified with",
    ("market", "GET", "/api/market/suppliers"): "the simulated market's own catalogue, public like a real supplier's",
}
# Mounted apps: what they pass requests to checks them.
PASS_THROUGH: dict[tuple[str, str], str] = {
    ("web", ""): "the gateway: each /api/<service> request goes to that service, whose routes are checked "
    "here; any other path is the single-page app, the same for everyone",
}
# Served by every service's app shell (brigade_common.http.create_app): the probes the orchestrator
# calls, Prometheus' scrape, and the API's own description. None carries a user's data.
INFRASTRUCTURE = ("/healthz", "/readyz", "/metrics", "/api/{service}/openapi.json")


@dataclass(frozen=True)
class Served:
    """One method of one route of one service, with its declaration when it has one."""

    service: str
    method: str
    path: str
    operation: Operation | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.service, self.method, self.path)

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"


APPS: dict[str, Starlette] = {definition.name: built_app(definition) for definition in installed()}


def _served(service: str, app: Starlette) -> Iterator[Served | tuple[str, str]]:
    declared = {(op.method, op.path): op for op in app.state.openapi.operations}
    for route in app.routes:
        yield from _route(service, route, declared)


def _route(
    service: str, route: BaseRoute, declared: dict[tuple[str, str], Operation]
) -> Iterator[Served | tuple[str, str]]:
    if isinstance(route, Mount):
        yield (service, route.path)
    elif isinstance(route, WebSocketRoute):
        yield Served(service, "WEBSOCKET", route.path, declared.get(("GET", route.path)))
    elif isinstance(route, Route):
        for method in sorted((route.methods or set()) - {"HEAD"}):
            yield Served(service, method, route.path, declared.get((method, route.path)))
    else:
        raise AssertionError(f"{service}: a route of a kind the matrix does not know: {route!r}")


EVERY = [found for service, app in APPS.items() for found in _served(service, app)]
SERVED = [s for s in EVERY if isinstance(s, Served)]
MOUNTS = [m for m in EVERY if isinstance(m, tuple)]
SECURED = [s for s in SERVED if s.operation is not None and s.operation.auth]
# A WebSocket signs in by its own protocol (a cookie, or a first frame): every one is secured.
SOCKETS = [s for s in SERVED if s.method == "WEBSOCKET"]
# A WebSocket's path over plain HTTP only says to upgrade (426), whoever asks.
UPGRADES = [s for s in SERVED if s.method != "WEBSOCKET" and s.operation is not None and s.operation.websocket]


def _infrastructure(served: Served) -> bool:
    return served.method == "GET" and served.path in {p.format(service=served.service) for p in INFRASTRUCTURE}


def test_every_route_is_secured_or_public_on_purpose() -> None:
    unexplained = [
        str(s)
        for s in SERVED
        if not (s.operation is not None and s.operation.auth)
        and s not in SOCKETS
        and s not in UPGRADES
        and s.key not in PUBLIC
        and not _infrastructure(s)
    ]
    assert not unexplained, (
        "routes that neither declare auth= nor are public on purpose (PUBLIC, with the reason): "
        + ", ".join(unexplained)
    )
    assert {m for m in MOUNTS} <= set(PASS_THROUGH), (
        f"mounted apps nobody vouched for: {set(MOUNTS) - set(PASS_THROUGH)}"
    )


def test_the_lists_name_only_what_is_served() -> None:
    """A public route that went away (or moved, or became secured) leaves the list."""
    public_now = {
        s.key for s in SERVED if not (s.operation and s.operation.auth) and s not in SOCKETS and s not in UPGRADES
    }
    assert set(PUBLIC) <= public_now, f"listed as public, not served as public: {set(PUBLIC) - public_now}"
    assert set(PASS_THROUGH) <= set(MOUNTS), f"listed mounts not mounted: {set(PASS_THROUGH) - set(MOUNTS)}"
    assert SECURED, "no secured operation at all: the matrix would prove nothing"


# --------------------------------------------------------------------------------- the credentials

OTHER_KEY = generate_key("someone-else")[0]
ROLES = tuple(r.value for r in Role)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": "brigade", "aud": "brigade", "sub": "mallory", "iat": now, "exp": now + 600, "roles": list(ROLES)}
    return {**claims, **overrides}


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(signature)}"


def _hs256_with_the_public_key() -> str:
    """The classic algorithm confusion: HMAC "signed" with the verifier's public key as the secret."""
    public = json.loads(identities.signing_key()[1])["keys"][0]
    header = {"alg": "HS256", "typ": "JWT", "kid": identities.KID}
    secret = json.dumps(public).encode()
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}"
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def _tampered() -> str:
    """A real customer token whose claims were edited to hold every role: the signature no longer fits."""
    header, _, signature = identities.token("mallory", ("customer",)).split(".")
    return f"{header}.{_b64(json.dumps(_claims()).encode())}.{signature}"


def _trusted(**kwargs: Any) -> str:
    return mint_token(identities.signing_key()[0], identities.KID, **{"sub": "mallory", "roles": ROLES, **kwargs})


# Tokens no service may accept, whatever the route: name → the token.
BAD_TOKENS: dict[str, Callable[[], str]] = {
    "malformed": lambda: "not-a-jwt",
    "expired": lambda: _trusted(ttl_s=-3600),
    "signed by an unknown key": lambda: mint_token(OTHER_KEY, "someone-else", sub="mallory", roles=ROLES),
    "wrong signature (another key, the trusted kid)": lambda: mint_token(
        OTHER_KEY, identities.KID, sub="mallory", roles=ROLES
    ),
    "claims edited after signing": _tampered,
    "alg none": lambda: _unsigned({"alg": "none", "typ": "JWT", "kid": identities.KID}, _claims()),
    "HS256 with the public key as secret": _hs256_with_the_public_key,
    "another issuer": lambda: _trusted(issuer="someone-else"),
    "another audience": lambda: _trusted(audience="someone-else"),
    "an empty subject": lambda: _trusted(sub=""),
}


def _path(served: Served) -> str:
    """The route's path with a well-formed value for each parameter (a bad one would be a 404)."""
    op = served.operation
    model: type[BaseModel] | None = op.path_model if op else None
    path = served.path
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        annotation = model.model_fields[name].annotation if model and name in model.model_fields else str
        path = path.replace(f"{{{name}}}", str(uuid.uuid4()) if annotation is uuid.UUID else "x")
    return path


async def _call(
    served: Served, headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None
) -> httpx.Response:
    app = APPS[served.service]
    # raise_app_exceptions=False: a caller let past reaches an endpoint whose app never started (a 500).
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}", cookies=cookies) as client:
        return await client.request(served.method, _path(served), headers=headers or {})


@pytest.mark.parametrize("served", UPGRADES, ids=str)
async def test_a_websocket_path_over_plain_http_only_says_to_upgrade(served: Served) -> None:
    r = await _call(served, {"Authorization": f"Bearer {identities.token('mallory', ROLES)}"})
    assert (r.status_code, r.headers["upgrade"]) == (426, "websocket"), r.text
    assert r.json()["type"].endswith("/upgrade-required") and "items" not in r.json()


@pytest.mark.parametrize("served", SECURED, ids=str)
async def test_no_token_is_a_401_with_a_challenge(served: Served) -> None:
    r = await _call(served)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["content-type"].startswith("application/problem+json")


BAD = [(served, name) for served in SECURED for name in BAD_TOKENS]


@pytest.mark.parametrize(("served", "bad"), BAD, ids=[f"{s} | {n}" for s, n in BAD])
async def test_a_bad_token_is_a_401(served: Served, bad: str) -> None:
    token = BAD_TOKENS[bad]()
    for r in (
        await _call(served, {"Authorization": f"Bearer {token}"}),
        await _call(served, {"Origin": f"http://{HOST}"}, cookies={ACCESS_COOKIE: token}),
    ):
        assert r.status_code == 401, r.text
        assert r.json()["type"].endswith("/invalid-token")
        assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        assert token not in r.text


WRONG_ROLES = [
    (served, role)
    for served in SECURED
    if served.operation is not None and served.operation.roles
    for role in ROLES
    if role not in served.operation.roles
]


@pytest.mark.parametrize(("served", "role"), WRONG_ROLES, ids=[f"{s} | as {r}" for s, r in WRONG_ROLES])
async def test_a_role_the_route_is_not_for_is_a_403(served: Served, role: str) -> None:
    r = await _call(served, {"Authorization": f"Bearer {identities.token(f'{role}-matrix', (role,))}"})
    assert r.status_code == 403, r.text
    assert r.json()["type"].endswith("/insufficient-role")


def _allowed_roles(served: Served) -> tuple[str, ...]:
    assert served.operation is not None
    return tuple(sorted(served.operation.roles)) or (Role.CUSTOMER.value,)


@pytest.mark.parametrize("served", SECURED, ids=str)
async def test_the_right_caller_gets_past(served: Served) -> None:
    """By bearer token, and by the browser's cookie (from the site itself, for an unsafe method)."""
    token = identities.token("matrix-user", _allowed_roles(served))
    by_bearer = await _call(served, {"Authorization": f"Bearer {token}"})
    by_cookie = await _call(served, {"Origin": f"http://{HOST}"}, cookies={ACCESS_COOKIE: token})
    for r in (by_bearer, by_cookie):
        assert r.status_code not in (401, 403), r.text


UNSAFE = [s for s in SECURED if s.method not in SAFE_METHODS]
CROSS_SITE: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "no Origin, no CSRF header": ({}, {}),
    "another site's Origin": ({"Origin": "https://attacker.example"}, {}),
    "a look-alike Origin": ({"Origin": f"https://{HOST}.attacker.example"}, {}),
    "a CSRF header that is not the cookie's": ({CSRF_HEADER: "guessed"}, {CSRF_COOKIE: "the-real-one"}),
    "a CSRF header without its cookie": ({CSRF_HEADER: "guessed"}, {}),
}
CROSS = [(served, name) for served in UNSAFE for name in CROSS_SITE]


@pytest.mark.parametrize(("served", "case"), CROSS, ids=[f"{s} | {n}" for s, n in CROSS])
async def test_an_unsafe_request_by_cookie_from_elsewhere_is_a_403(served: Served, case: str) -> None:
    headers, cookies = CROSS_SITE[case]
    token = identities.token("matrix-user", _allowed_roles(served))
    r = await _call(served, headers, cookies={ACCESS_COOKIE: token, **cookies})
    assert r.status_code == 403, r.text
    assert r.json()["type"].endswith("/cross-site-request")


@pytest.mark.parametrize("served", UNSAFE, ids=str)
async def test_the_double_submit_csrf_header_lets_a_cookie_through(served: Served) -> None:
    token = identities.token("matrix-user", _allowed_roles(served))
    r = await _call(served, {CSRF_HEADER: "same"}, cookies={ACCESS_COOKIE: token, CSRF_COOKIE: "same"})
    assert r.status_code not in (401, 403), r.text


# ---------------------------------------------------------------------------------- the WebSockets

CLOSED_UNAUTHENTICATED = 4401
HANDSHAKE_REFUSED = 403
SITE = "site"  # the Origin of the server's own address


@pytest.fixture(scope="module")
async def socket_urls() -> AsyncIterator[dict[str, str]]:
    """Each app that has a WebSocket, served for real (its lifespan off: nothing to connect to)."""
    async with contextlib.AsyncExitStack() as stack:
        urls = {}
        for service in {s.service for s in SOCKETS}:
            base = await stack.enter_async_context(serving(APPS[service], lifespan="off"))
            urls[service] = base.replace("http://", "ws://")
        yield urls


async def _socket(
    urls: dict[str, str], served: Served, first: str | None = None, origin: str | None = None, cookie: str | None = None
) -> int | dict[str, Any]:
    """The close code the socket ends with (the HTTP status of a refused handshake), or its first frame."""
    url = urls[served.service]
    headers = {"Cookie": f"{ACCESS_COOKIE}={cookie}"} if cookie else {}
    if origin == SITE:
        origin = url.replace("ws://", "http://")
    try:
        async with connect(url + served.path, additional_headers=headers, origin=origin, open_timeout=5) as ws:
            if first is not None:
                await ws.send(json.dumps({"type": "auth", "token": first}))
            frame: dict[str, Any] = json.loads(await ws.recv())
            return frame
    except InvalidStatus as refused:
        return refused.response.status_code
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else -1  # -1: no close frame at all


@pytest.mark.parametrize("served", SOCKETS, ids=str)
async def test_a_socket_that_does_not_sign_in_is_closed(served: Served, socket_urls: dict[str, str]) -> None:
    assert await _socket(socket_urls, served) == CLOSED_UNAUTHENTICATED


SOCKET_BAD = [(served, name) for served in SOCKETS for name in BAD_TOKENS]


@pytest.mark.parametrize(("served", "bad"), SOCKET_BAD, ids=[f"{s} | {n}" for s, n in SOCKET_BAD])
async def test_a_socket_with_a_bad_token_is_closed(served: Served, bad: str, socket_urls: dict[str, str]) -> None:
    token = BAD_TOKENS[bad]()
    assert await _socket(socket_urls, served, first=token) == CLOSED_UNAUTHENTICATED
    assert await _socket(socket_urls, served, origin=SITE, cookie=token) == CLOSED_UNAUTHENTICATED


@pytest.mark.parametrize("served", SOCKETS, ids=str)
async def test_a_socket_opened_with_the_cookie_from_another_site_is_refused(
    served: Served, socket_urls: dict[str, str]
) -> None:
    """Cross-site WebSocket hijacking: a page elsewhere opening the socket with the visitor's cookie."""
    token = identities.token("matrix-user", ("staff",))
    for origin in (None, "https://attacker.example", f"{socket_urls[served.service]}.attacker.example"):
        assert await _socket(socket_urls, served, origin=origin, cookie=token) == HANDSHAKE_REFUSED, origin


@pytest.mark.parametrize("served", SOCKETS, ids=str)
async def test_a_socket_signed_in_by_first_frame_or_by_cookie_is_ready(
    served: Served, socket_urls: dict[str, str]
) -> None:
    token = identities.token("matrix-user", ("customer",))
    for ready in (
        await _socket(socket_urls, served, first=token),
        await _socket(socket_urls, served, origin=SITE, cookie=token),
    ):
        assert isinstance(ready, dict) and ready["type"] == "ready" and ready["user"] == "matrix-user", ready
        assert token not in json.dumps(ready)
