"""Ed25519 JWTs: minting, verification, the refusals that matter, the route guard and the CLI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket

from brigade_common.auth.__main__ import main
from brigade_common.auth.keys import generate_key, jwks
from brigade_common.auth.keysource import KeysUnavailable
from brigade_common.auth.requests import (
    ACCESS_COOKIE,
    CSRF_COOKIE,
    CSRF_HEADER,
    bearer_token,
    handshake_token,
    require_principal,
)
from brigade_common.auth.tokens import mint_token
from brigade_common.auth.verifier import JwtVerifier, Principal
from brigade_common.http import create_app, json_response
from brigade_common.problems import Forbidden, Unauthorized


@pytest.fixture(scope="module")
def key() -> tuple[str, dict[str, str]]:
    return generate_key("k1")


@pytest.fixture(scope="module")
def verifier(key: tuple[str, dict[str, str]]) -> JwtVerifier:
    return JwtVerifier(jwks([key[1]]))


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "brigade",
        "aud": "brigade",
        "sub": "alice",
        "iat": now,
        "exp": now + 60,
        "roles": ["customer"],
        **overrides,
    }


def sign(private_pem: str, payload: dict[str, Any], kid: str = "k1") -> str:
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return jwt.encode(payload, private, algorithm="EdDSA", headers={"kid": kid})  # type: ignore[arg-type]


def refused(verifier: JwtVerifier, token: str | None) -> Unauthorized:
    with pytest.raises(Unauthorized) as info:
        verifier.verify(token)
    assert info.value.type == "https://brigade.dev/problems/invalid-token"
    assert info.value.status == 401
    assert info.value.headers["WWW-Authenticate"].startswith("Bearer")
    return info.value


def test_a_minted_token_verifies_to_its_principal(key: tuple[str, dict[str, str]], verifier: JwtVerifier) -> None:
    private_pem, public = key
    assert (public["kid"], public["kty"], public["crv"]) == ("k1", "OKP", "Ed25519")
    assert "d" not in public  # the private part never leaves the PEM
    token = mint_token(private_pem, "k1", sub="alice", roles=["customer", "staff"], name="Alice", ttl_s=600)
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    exp = float(jwt.decode(token, options={"verify_signature": False})["exp"])
    assert verifier.verify(token) == Principal(
        sub="alice", roles=frozenset({"customer", "staff"}), name="Alice", expires_at=exp
    )
    assert 590 <= exp - time.time() <= 600


def test_keys_are_selected_by_kid() -> None:
    old_pem, old_public = generate_key("old")
    new_pem, new_public = generate_key()
    assert len(new_public["kid"]) == 43  # RFC 7638 thumbprint
    both = JwtVerifier(jwks([old_public, new_public]))
    assert both.kids == {"old", new_public["kid"]}
    assert both.verify(mint_token(old_pem, "old", sub="a", roles=[])).sub == "a"
    assert both.verify(mint_token(new_pem, new_public["kid"], sub="b", roles=[])).sub == "b"
    # A token signed by one key but naming the other's kid has a bad signature.
    refused(both, mint_token(old_pem, new_public["kid"], sub="a", roles=[]))


def test_missing_expired_and_unknown_kid_are_refused(key: tuple[str, dict[str, str]], verifier: JwtVerifier) -> None:
    private_pem, _ = key
    assert refused(verifier, None).headers["WWW-Authenticate"] == "Bearer"
    assert refused(verifier, "").detail == "missing bearer token"
    expired = mint_token(private_pem, "k1", sub="alice", roles=[], ttl_s=-31)
    assert refused(verifier, expired).detail == "token expired"
    assert 'error="invalid_token"' in refused(verifier, expired).headers["WWW-Authenticate"]
    within_leeway = mint_token(private_pem, "k1", sub="alice", roles=[], ttl_s=-5)
    assert verifier.verify(within_leeway).sub == "alice"
    assert refused(verifier, mint_token(private_pem, "k2", sub="a", roles=[])).detail == "unknown signing key"
    assert refused(verifier, "not.a.token").detail == "malformed token"


def test_a_token_signed_by_another_key_is_refused(verifier: JwtVerifier) -> None:
    other_pem, _ = generate_key("k1")
    refused(verifier, mint_token(other_pem, "k1", sub="mallory", roles=["admin"]))


def test_hs256_signed_with_the_public_key_is_refused(key: tuple[str, dict[str, str]], verifier: JwtVerifier) -> None:
    # The classic algorithm confusion: an attacker "signs" with the public key as an HMAC secret.
    public_texts = [jwks([key[1]]), json.dumps(key[1]), key[1]["x"]]
    for secret in public_texts:
        signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'k1'})}.{b64(claims(roles=['admin']))}"
        mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
        assert refused(verifier, f"{signing_input}.{b64(mac)}").detail == "unsupported signing algorithm"


def test_alg_none_is_refused(verifier: JwtVerifier) -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{b64(claims(roles=['admin']))}."
    assert refused(verifier, token).detail == "unsupported signing algorithm"


@pytest.mark.parametrize(
    "payload",
    [
        {k: v for k, v in claims().items() if k != "exp"},
        {k: v for k, v in claims().items() if k != "sub"},
        claims(iss="someone-else"),
        claims(aud="another-app"),
        claims(roles="admin"),
        claims(nbf=int(time.time()) + 3600),
    ],
    ids=["no-exp", "no-sub", "issuer", "audience", "roles-not-a-list", "not-yet-valid"],
)
def test_bad_claims_are_refused(
    key: tuple[str, dict[str, str]], verifier: JwtVerifier, payload: dict[str, Any]
) -> None:
    refused(verifier, sign(key[0], payload))


def test_a_jwks_without_ed25519_keys_is_rejected_at_start_up() -> None:
    with pytest.raises(ValueError, match="no Ed25519 key"):
        JwtVerifier(json.dumps({"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}]}))
    with pytest.raises(ValueError, match="unusable JWKS"):
        JwtVerifier("not json")


def test_a_shared_secret_published_in_the_jwks_is_never_a_verification_key(key: tuple[str, dict[str, str]]) -> None:
    secret = b"s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"
    oct_key = {"kty": "oct", "kid": "hmac", "k": base64.urlsafe_b64encode(secret).rstrip(b"=").decode()}
    verifier = JwtVerifier(json.dumps({"keys": [oct_key, key[1]]}))
    assert verifier.kids == {"k1"}
    forged = jwt.encode(claims(), secret, algorithm="HS256", headers={"kid": "hmac"})
    refused(verifier, forged)


async def staff_only(request: Request) -> Response:
    principal = await require_principal(request, roles={"staff", "admin"})
    return json_response({"sub": principal.sub, "state": request.state.principal.sub})


async def anyone(request: Request) -> Response:
    principal = await require_principal(request)
    return json_response({"sub": principal.sub, "roles": sorted(principal.roles)})


async def test_require_principal_guards_routes(key: tuple[str, dict[str, str]], verifier: JwtVerifier) -> None:
    app = create_app(service="svc", routes=[Route("/staff", staff_only), Route("/me", anyone)], jwt_verifier=verifier)
    customer = mint_token(key[0], "k1", sub="alice", roles=["customer"])
    staff = mint_token(key[0], "k1", sub="bob", roles=["staff"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        anonymous = await c.get("/me")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert anonymous.json()["type"] == "https://brigade.dev/problems/invalid-token"
        assert (await c.get("/me", headers={"Authorization": "Basic YWxpY2U6eA=="})).status_code == 401
        me = await c.get("/me", headers={"Authorization": f"bearer {customer}"})
        assert me.json() == {"sub": "alice", "roles": ["customer"]}
        forbidden = await c.get("/staff", headers={"Authorization": f"Bearer {customer}"})
        assert forbidden.status_code == 403
        assert forbidden.json()["type"] == "https://brigade.dev/problems/insufficient-role"
        allowed = await c.get("/staff", headers={"Authorization": f"Bearer {staff}"})
        assert allowed.json() == {"sub": "bob", "state": "bob"}


def test_a_token_is_read_from_the_authorization_header_only_never_from_the_url() -> None:
    async def nothing() -> dict[str, Any]:
        return {}

    async def discard(message: Any) -> None:
        return None

    def conn(kind: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> Any:
        scope = {"type": kind, "path": "/", "query_string": query, "headers": headers}
        return WebSocket(scope, nothing, discard) if kind == "websocket" else Request(scope)

    assert bearer_token(conn("websocket", b"access_token=abc", [])) is None
    assert bearer_token(conn("http", b"access_token=abc", [])) is None
    assert bearer_token(conn("websocket", b"", [(b"authorization", b"Bearer abc")])) == "abc"
    assert bearer_token(conn("http", b"", [(b"authorization", b"Bearer xyz")])) == "xyz"


def test_keygen_is_idempotent_and_token_prints_a_verifiable_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "jwt"
    assert main(["keygen", "--dir", str(keys)]) == 0
    private = keys / "private.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    pem, document = private.read_text(), (keys / "jwks.json").read_text()
    assert "PRIVATE KEY" not in document
    assert main(["keygen", "--dir", str(keys)]) == 0
    assert private.read_text() == pem
    assert (keys / "jwks.json").read_text() == document
    capsys.readouterr()

    argv = ["token", "--key-dir", str(keys), "--sub", "alice", "--role", "customer", "--role", "staff", "--ttl", "120"]
    assert main(argv) == 0
    token = capsys.readouterr().out.strip()
    principal = JwtVerifier(document).verify(token)
    assert (principal.sub, principal.roles, principal.name) == ("alice", frozenset({"customer", "staff"}), None)
    assert principal.expires_at is not None and 110 <= principal.expires_at - time.time() <= 120
    assert main(["token", "--key-dir", str(tmp_path / "none"), "--sub", "a"]) == 1


def test_keygen_adds_its_key_to_an_existing_jwks(tmp_path: Path) -> None:
    _, other = generate_key("previous")
    tmp_path.joinpath("jwks.json").write_text(jwks([other]))
    assert main(["keygen", "--dir", str(tmp_path)]) == 0
    kids = [k["kid"] for k in json.loads(tmp_path.joinpath("jwks.json").read_text())["keys"]]
    assert kids[0] == "previous"
    assert len(kids) == 2


def test_python_dash_m_works(tmp_path: Path) -> None:
    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "brigade_common.auth", *args], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    run("keygen", "--dir", str(tmp_path))
    token = run("token", "--key-dir", str(tmp_path), "--sub", "carol", "--role", "customer")
    assert JwtVerifier(tmp_path.joinpath("jwks.json").read_text()).verify(token).sub == "carol"


def test_a_remembered_token_gives_the_same_principal_and_a_refused_one_stays_refused(
    key: tuple[str, dict[str, str]], verifier: JwtVerifier
) -> None:
    private_pem, _ = key
    token = mint_token(private_pem, "k1", sub="alice", roles=["customer"], ttl_s=60)
    first = verifier.verify(token)
    assert verifier.verify(token) == first  # served from memory the second time
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify(tampered)


# ------------------------------------------------------------------------ cookies and key rotation


class CountingKeys:
    """A key source whose document the test changes (a rotation), counting the fetches."""

    def __init__(self, *publics: dict[str, str]) -> None:
        self.document = jwks(list(publics))
        self.fetches = 0
        self.down = False

    async def fetch(self) -> str:
        self.fetches += 1
        if self.down:
            raise KeysUnavailable("auth is down")
        return self.document


async def test_keys_are_fetched_once_and_again_only_for_an_unknown_kid() -> None:
    old_pem, old_public = generate_key("old")
    new_pem, new_public = generate_key("new")
    source = CountingKeys(old_public)
    verifier = JwtVerifier(source, min_refresh_s=3600)
    old = mint_token(old_pem, "old", sub="alice", roles=["customer"])
    assert (await verifier.authenticate(old)).sub == "alice"
    assert (await verifier.authenticate(mint_token(old_pem, "old", sub="bob", roles=[]))).sub == "bob"
    assert source.fetches == 1
    source.document = jwks([old_public, new_public])  # a key rotated in
    new = mint_token(new_pem, "new", sub="carol", roles=["customer"])
    assert (await verifier.authenticate(new)).sub == "carol"
    assert (await verifier.authenticate(old)).sub == "alice"  # the old key still verifies
    assert source.fetches == 2
    forged = mint_token(generate_key("made-up")[0], "made-up", sub="mallory", roles=["admin"])
    for _ in range(3):
        with pytest.raises(Unauthorized):
            await verifier.authenticate(forged)
    assert source.fetches == 2  # an unknown kid cannot make it ask more than once per interval


async def test_tokens_cannot_be_verified_while_the_keys_are_out_of_reach() -> None:
    pem, public = generate_key("k")
    source = CountingKeys(public)
    source.down = True
    app = create_app(service="svc", routes=[Route("/me", anyone)], jwt_verifier=JwtVerifier(source))
    token = mint_token(pem, "k", sub="alice", roles=["customer"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        down = await c.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert down.status_code == 503 and down.json()["dependency"] == "auth"
        assert down.headers["retry-after"]
        source.down = False
        assert (await c.get("/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def shout(request: Request) -> Response:
    principal = await require_principal(request)
    return json_response({"sub": principal.sub})


async def test_a_cookie_signs_in_but_an_unsafe_request_by_cookie_must_come_from_the_site(
    key: tuple[str, dict[str, str]], verifier: JwtVerifier
) -> None:
    app = create_app(
        service="svc", routes=[Route("/me", anyone), Route("/shout", shout, methods=["POST"])], jwt_verifier=verifier
    )
    token = mint_token(key[0], "k1", sub="alice", roles=["customer"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kitchen.local", cookies={ACCESS_COOKIE: token}
    ) as c:
        assert (await c.get("/me")).json()["sub"] == "alice"
        refused = await c.post("/shout")
        assert refused.status_code == 403 and refused.json()["type"].endswith("/cross-site-request")
        foreign = await c.post("/shout", headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        assert (await c.post("/shout", headers={"Origin": "http://kitchen.local"})).status_code == 200
        c.cookies.set(CSRF_COOKIE, "s3cret")
        assert (await c.post("/shout", headers={CSRF_HEADER: "s3cret"})).status_code == 200
        assert (await c.post("/shout", headers={CSRF_HEADER: "guess"})).status_code == 403
    # A bearer token is not sent by the browser on its own: no cross-site check for it.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kitchen.local") as c:
        assert (await c.post("/shout", headers={"Authorization": f"Bearer {token}"})).status_code == 200


def _handshake(headers: dict[str, str]) -> HTTPConnection:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return HTTPConnection({"type": "websocket", "path": "/ws", "headers": raw})


def test_a_websocket_handshake_signs_in_by_cookie_only_from_the_site() -> None:
    cookie = f"{ACCESS_COOKIE}=the-token"
    assert handshake_token(_handshake({"host": "kitchen.local"})) is None  # it signs in by its first message
    here = _handshake({"host": "kitchen.local", "origin": "http://kitchen.local", "cookie": cookie})
    assert handshake_token(here) == "the-token"
    # Through the gateway, the upstream handshake names the upstream in Host, the site in X-Forwarded-Host.
    proxied = {"host": "127.0.0.1:8007", "x-forwarded-host": "kitchen.local", "cookie": cookie}
    assert handshake_token(_handshake({**proxied, "origin": "http://kitchen.local"})) == "the-token"
    for origin in ({}, {"origin": "https://evil.example"}, {"origin": "http://kitchen.local.evil.example"}):
        with pytest.raises(Forbidden):
            handshake_token(_handshake({**proxied, **origin}))
