"""Verifying access tokens against the Ed25519 keys of a JWKS document (PyJWT's `PyJWKSet`).

Only EdDSA with an Ed25519 key named by the token's `kid` is accepted, so algorithm-confusion tokens
(`alg: none`, or HS256 "signed" with the public key) never verify. Every refusal is an
`Unauthorized` problem of type `invalid-token`.

The keys come from a `KeySource` (brigade_common.auth.keysource): `authenticate` loads them on first
use and again when a token names a `kid` the verifier does not know (rotation), at most once every
`min_refresh_s`; `verify` uses the keys it has.
"""

from __future__ import annotations

import time

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from brigade_common.auth.keys import ALGORITHM
from brigade_common.auth.keysource import KeySource, RefreshGate
from brigade_common.auth.principal import Principal as Principal  # its home before it had its own module
from brigade_common.problems import Unauthorized

INVALID_TOKEN = "invalid-token"  # noqa: S105 - a problem type, not a secret
MAX_REMEMBERED_TOKENS = 10_000


def invalid_token(detail: str, *, error: bool = True) -> Unauthorized:
    """The 401 for a refused token, with the RFC 6750 challenge (`error=` only when a token was sent)."""
    quoted = detail.replace("\\", "").replace('"', "'")
    challenge = f'Bearer error="invalid_token", error_description="{quoted}"' if error else "Bearer"
    return Unauthorized(detail, type=INVALID_TOKEN, title="Invalid Token", headers={"WWW-Authenticate": challenge})


def ed25519_keys(jwks_json: str) -> dict[str, Ed25519PublicKey]:
    """kid → public key for every Ed25519 signing key of a JWKS document; other keys are ignored.
    `ValueError` when none is left."""
    try:
        usable = jwt.PyJWKSet.from_json(jwks_json).keys
    except jwt.PyJWKSetError:
        usable = []  # no key PyJWT can use: said below, in the same words as "none of them is Ed25519"
    except (jwt.PyJWTError, ValueError) as exc:
        raise ValueError(f"unusable JWKS: {exc}") from None
    keys = {
        jwk.key_id: jwk.key
        for jwk in usable
        if jwk.key_id and isinstance(jwk.key, Ed25519PublicKey) and jwk.algorithm_name == ALGORITHM
    }
    if not keys:
        raise ValueError("the JWKS holds no Ed25519 key with a kid")
    return keys


class JwtVerifier:
    """Verifies bearer tokens against the Ed25519 keys of a JWKS document (text, or a `KeySource`)."""

    def __init__(
        self,
        keys: str | KeySource,
        *,
        issuer: str = "brigade",
        audience: str = "brigade",
        leeway_s: int = 30,
        min_refresh_s: float = 10.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self._source: KeySource | None = None
        self._keys: dict[str, Ed25519PublicKey] = {}
        if isinstance(keys, str):
            self._keys = ed25519_keys(keys)
        else:
            self._source = keys
        self._gate = RefreshGate(min_refresh_s)
        # A client sends the same token with every request for its lifetime, and an Ed25519 check is
        # a tenth of an order's CPU: a token that verified is remembered until it expires. Failures
        # are never remembered.
        self._verified: dict[str, tuple[Principal, float]] = {}

    @property
    def kids(self) -> frozenset[str]:
        """The key ids this verifier accepts."""
        return frozenset(self._keys)

    async def authenticate(self, token: str | None) -> Principal:
        """`verify`, after loading the keys when the token names a `kid` not known yet."""
        # Until the first load succeeds, every request tries (a failure is a 503, not a refusal).
        if self._source is not None and token and self._unknown_kid(token) and (not self._keys or self._gate.allow()):
            self._keys = ed25519_keys(await self._source.fetch())
        return self.verify(token)

    def _unknown_kid(self, token: str) -> bool:
        if token in self._verified:
            return False
        try:
            return str(jwt.get_unverified_header(token).get("kid")) not in self._keys
        except jwt.InvalidTokenError:
            return False

    def verify(self, token: str | None) -> Principal:
        """The principal of a valid token; `Unauthorized` (type `invalid-token`) for anything else."""
        if not token:
            raise invalid_token("missing bearer token", error=False)
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise invalid_token("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise invalid_token("unsupported signing algorithm")
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise invalid_token("unknown signing key")
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
            raise invalid_token("token expired") from None
        except jwt.InvalidTokenError as exc:
            raise invalid_token(f"token rejected: {exc}") from None
        roles = claims.get("roles", [])
        name = claims.get("name")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise invalid_token("token rejected: roles must be a list of strings")
        if not isinstance(claims["sub"], str) or not claims["sub"] or not isinstance(name, str | None):
            raise invalid_token("token rejected: bad subject or name")
        principal = Principal(sub=claims["sub"], roles=frozenset(roles), name=name, expires_at=float(claims["exp"]))
        self._remember(token, principal, float(claims["exp"]))
        return principal

    def _remember(self, token: str, principal: Principal, exp: float) -> None:
        if len(self._verified) >= MAX_REMEMBERED_TOKENS:
            now = time.time()
            self._verified = {t: v for t, v in self._verified.items() if v[1] > now}
            if len(self._verified) >= MAX_REMEMBERED_TOKENS:
                self._verified.clear()
        self._verified[token] = (principal, exp + self.leeway_s)
