"""Dev JWTs signed with `.brigade/jwt/private.pem`, verifiable with the `jwks.json` beside it."""

from __future__ import annotations

from pathlib import Path

from brigade_common.auth.tokens import mint_token
from brigade_devstack.infra import ensure_jwt_keys

DEMO_SUBJECT = "customer-demo"


def dev_token(jwt_dir: Path, *, subject: str, role: str, ttl_seconds: int) -> str:
    """A token for `subject` with the one role `role`, signed with the stack's dev key (created if missing)."""
    kid = ensure_jwt_keys(jwt_dir)
    private_pem = (jwt_dir / "private.pem").read_text()
    return mint_token(private_pem, kid, sub=subject, roles=[role], ttl_s=ttl_seconds)
