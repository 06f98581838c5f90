"""Access tokens (EdDSA JWTs with the signing key's kid) and new Ed25519 signing keys."""

from __future__ import annotations

from datetime import datetime

from brigade_auth.domain.keys import SigningKey
from brigade_auth.domain.model import User
from brigade_auth.service.ports import AccessToken
from brigade_common.auth.keys import generate_key
from brigade_common.auth.tokens import mint_token


class Ed25519Signer:
    def __init__(self, *, ttl_s: int, issuer: str, audience: str) -> None:
        self._ttl_s = ttl_s
        self._issuer = issuer
        self._audience = audience

    def sign(self, user: User, key: SigningKey) -> AccessToken:
        token = mint_token(
            key.private_pem,
            key.kid,
            sub=user.id,
            roles=[r.value for r in user.roles],
            name=user.display_name,
            ttl_s=self._ttl_s,
            issuer=self._issuer,
            audience=self._audience,
        )
        return AccessToken(token, self._ttl_s)


def new_signing_key(now: datetime) -> SigningKey:
    """A fresh Ed25519 key; its kid is the RFC 7638 thumbprint of its public half."""
    pem, public = generate_key()
    return SigningKey(public["kid"], pem, public, now)
