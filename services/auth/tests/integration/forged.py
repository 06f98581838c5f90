"""Tokens a verifier must refuse, each made the way an attacker (or a clock) would make it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from brigade_common.auth.tokens import mint_token
from brigade_common.testing.inprocess import TestKeys


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _claims(sub: str, roles: list[str]) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": "brigade", "aud": "brigade", "sub": sub, "iat": now, "exp": now + 600, "roles": roles}


def forged_tokens(valid: str, private_pem: str, kid: str, public_x: str, sub: str) -> dict[str, str | None]:
    """Name → token (None: no token at all). `valid` is a real token of `sub`, signed with `kid`."""
    header, payload, signature = valid.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    claims = _claims(sub, ["customer", "staff", "admin"])
    hs_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, claims)
    # The public key as an HMAC secret (the classic algorithm-confusion attack), in both of its spellings.
    hs_signature = hmac.new(public_x.encode(), hs_input.encode(), hashlib.sha256).digest()
    return {
        "no token": None,
        "not a JWT": "not-a-token",
        "expired": mint_token(private_pem, kid, sub=sub, roles=["customer"], ttl_s=-120),
        "signed by an unknown key": TestKeys(kid="someone-elses").token(sub, ("customer", "staff", "admin")),
        "unknown key under the real kid": TestKeys(kid=kid).token(sub, ("customer", "staff", "admin")),
        "wrong signature": f"{header}.{payload}.{flipped}",
        "alg none": _unsigned({"alg": "none", "typ": "JWT", "kid": kid}, claims) + ".",
        "HS256 with the public key as secret": f"{hs_input}.{_b64(hs_signature)}",
        "another audience": mint_token(private_pem, kid, sub=sub, roles=["customer"], audience="elsewhere"),
    }
