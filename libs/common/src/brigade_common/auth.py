"""Bearer tokens: Ed25519-signed JWTs (`alg: EdDSA`), verified against a JWKS and selected by `kid`.

The auth service holds the private key and mints tokens; every other service only verifies them with
the public JWKS from its settings. Only EdDSA is accepted, so algorithm-confusion tokens (`none`, or
HS256 "signed" with the public key) never verify.

Key tools on the command line:

    python -m brigade_common.auth keygen --dir .local/jwt
    python -m brigade_common.auth token --key-dir .local/jwt --sub alice --role customer
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from starlette.requests import HTTPConnection

from brigade_common.problems import Forbidden, Unauthorized

ALGORITHM = "EdDSA"
INVALID_TOKEN = "invalid-token"  # noqa: S105 - a problem type, not a secret


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, roles and display name."""

    sub: str
    roles: frozenset[str]
    name: str | None = None

    def has_any_role(self, roles: Iterable[str]) -> bool:
        """True when the principal holds at least one of `roles`."""
        return not self.roles.isdisjoint(roles)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_jwk(public: Ed25519PublicKey, kid: str | None = None) -> dict[str, str]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    # RFC 7638 thumbprint: a kid derived from the key itself, stable across runs.
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    thumbprint = _b64url(hashlib.sha256(canonical).digest())
    return {**jwk, "kid": kid or thumbprint, "alg": ALGORITHM, "use": "sig"}


def _load_private(private_pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def generate_key(kid: str | None = None) -> tuple[str, dict[str, str]]:
    """A new Ed25519 key: its private PEM (PKCS#8) and its public JWK (kid defaults to the thumbprint)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return pem, _public_jwk(key.public_key(), kid)


def public_jwk(private_pem: str, kid: str | None = None) -> dict[str, str]:
    """The public JWK of a private PEM (kid defaults to the RFC 7638 thumbprint)."""
    return _public_jwk(_load_private(private_pem).public_key(), kid)


def jwks(public_jwks: list[dict[str, str]]) -> str:
    """A JWKS document (`{"keys": [...]}`) as JSON text, the form `JwtVerifier` and settings take."""
    return json.dumps({"keys": public_jwks}, indent=2)


def mint_token(
    private_pem: str,
    kid: str,
    *,
    sub: str,
    roles: Iterable[str],
    name: str | None = None,
    ttl_s: int = 3600,
    issuer: str = "brigade",
    audience: str = "brigade",
) -> str:
    """Sign a token for `sub` with `roles`, valid for `ttl_s` seconds."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
        "roles": sorted(set(roles)),
    }
    if name is not None:
        claims["name"] = name
    return jwt.encode(claims, _load_private(private_pem), algorithm=ALGORITHM, headers={"kid": kid})


def _invalid(detail: str, *, error: bool = True) -> Unauthorized:
    quoted = detail.replace("\\", "").replace('"', "'")
    challenge = f'Bearer error="invalid_token", error_description="{quoted}"' if error else "Bearer"
    return Unauthorized(detail, type=INVALID_TOKEN, title="Invalid Token", headers={"WWW-Authenticate": challenge})


MAX_REMEMBERED_TOKENS = 10_000


class JwtVerifier:
    """Verifies bearer tokens against the Ed25519 keys of a JWKS document."""

    def __init__(
        self, jwks_json: str, *, issuer: str = "brigade", audience: str = "brigade", leeway_s: int = 30
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self._keys: dict[str, Ed25519PublicKey] = {}
        for jwk in json.loads(jwks_json).get("keys", []):
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not jwk.get("kid"):
                continue
            raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
            self._keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(raw)
        if not self._keys:
            raise ValueError("the JWKS holds no Ed25519 key with a kid")
        # A client sends the same token with every request for its lifetime, and an Ed25519 check is
        # a tenth of an order's CPU: a token that verified is remembered until it expires. Failures
        # are never remembered.
        self._verified: dict[str, tuple[Principal, float]] = {}

    @property
    def kids(self) -> frozenset[str]:
        """The key ids this verifier accepts."""
        return frozenset(self._keys)

    def verify(self, token: str | None) -> Principal:
        """The principal of a valid token; `Unauthorized` (type `invalid-token`) for anything else."""
        if not token:
            raise _invalid("missing bearer token", error=False)
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise _invalid("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise _invalid("unsupported signing algorithm")
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise _invalid("unknown signing key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise _invalid("token expired") from None
        except jwt.InvalidTokenError as exc:
            raise _invalid(f"token rejected: {exc}") from None
        roles = claims.get("roles", [])
        name = claims.get("name")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise _invalid("token rejected: roles must be a list of strings")
        if not isinstance(claims["sub"], str) or not claims["sub"] or not isinstance(name, str | None):
            raise _invalid("token rejected: bad subject or name")
        principal = Principal(sub=claims["sub"], roles=frozenset(roles), name=name)
        self._remember(token, principal, float(claims["exp"]))
        return principal

    def _remember(self, token: str, principal: Principal, exp: float) -> None:
        if len(self._verified) >= MAX_REMEMBERED_TOKENS:
            now = time.time()
            self._verified = {t: v for t, v in self._verified.items() if v[1] > now}
            if len(self._verified) >= MAX_REMEMBERED_TOKENS:
                self._verified.clear()
        self._verified[token] = (principal, exp + self.leeway_s)


def bearer_token(conn: HTTPConnection) -> str | None:
    """The token of an `Authorization: Bearer …` header; WebSockets may use `?access_token=` instead,
    since browsers cannot set headers on them."""
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if conn.scope["type"] == "websocket":
        return conn.query_params.get("access_token") or None
    return None


async def require_principal(request: HTTPConnection, *, roles: set[str] | None = None) -> Principal:
    """The caller's principal (verified with `request.app.state.jwt_verifier`), also stored as
    `request.state.principal`. With `roles`, the caller must hold at least one of them (`Forbidden`)."""
    verifier: JwtVerifier | None = getattr(request.app.state, "jwt_verifier", None)
    if verifier is None:
        raise RuntimeError("app.state.jwt_verifier is not set: pass jwt_verifier= to create_app")
    principal = verifier.verify(bearer_token(request))
    if roles and not principal.has_any_role(roles):
        raise Forbidden(f"requires one of the roles: {', '.join(sorted(roles))}", type="insufficient-role")
    request.state.principal = principal
    return principal


# ------------------------------------------------------------------------------------------------ CLI


def _write_private(path: Path, pem: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pem)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def keygen(directory: Path) -> tuple[str, bool]:
    """Ensure `directory` holds `private.pem` (0600) and a `jwks.json` listing its public key.

    An existing private key is kept (idempotent); other keys already in jwks.json stay (rotation).
    Returns the key's kid and whether a new key was created.
    """
    directory.mkdir(parents=True, exist_ok=True)
    private_path, jwks_path = directory / "private.pem", directory / "jwks.json"
    created = not private_path.exists()
    if created:
        pem, public = generate_key()
        _write_private(private_path, pem)
    else:
        public = public_jwk(private_path.read_text())
    keys: list[dict[str, str]] = []
    if jwks_path.exists():
        keys = json.loads(jwks_path.read_text()).get("keys", [])
    if not any(k.get("kid") == public["kid"] for k in keys):
        _write_atomic(jwks_path, jwks([*keys, public]) + "\n")
    return public["kid"], created


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m brigade_common.auth", description="Brigade JWT tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("keygen", help="create an Ed25519 key pair (keeps an existing one)")
    gen.add_argument("--dir", required=True, type=Path, help="writes DIR/private.pem and DIR/jwks.json")
    tok = sub.add_parser("token", help="print a signed token")
    tok.add_argument("--key-dir", required=True, type=Path, help="directory holding private.pem")
    tok.add_argument("--sub", required=True, help="subject (user id)")
    tok.add_argument("--role", action="append", default=[], help="a role; repeat for several")
    tok.add_argument("--name", default=None, help="display name")
    tok.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    tok.add_argument("--issuer", default="brigade")
    tok.add_argument("--audience", default="brigade")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m brigade_common.auth`."""
    args = _parser().parse_args(argv)
    if args.command == "keygen":
        kid, created = keygen(args.dir)
        print(f"{'created' if created else 'kept'} key {kid} in {args.dir}", file=sys.stderr)
        return 0
    private_path = args.key_dir / "private.pem"
    if not private_path.exists():
        print(f"no key at {private_path}: run `keygen --dir {args.key_dir}` first", file=sys.stderr)
        return 1
    pem = private_path.read_text()
    print(
        mint_token(
            pem,
            public_jwk(pem)["kid"],
            sub=args.sub,
            roles=args.role,
            name=args.name,
            ttl_s=args.ttl,
            issuer=args.issuer,
            audience=args.audience,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
