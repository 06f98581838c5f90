"""Minting access tokens: EdDSA JWTs with a `kid` header, subject, roles and a short lifetime."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt

from brigade_common.auth.keys import ALGORITHM, load_private


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
    return jwt.encode(claims, load_private(private_pem), algorithm=ALGORITHM, headers={"kid": kid})
