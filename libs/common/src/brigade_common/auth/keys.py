"""Ed25519 signing keys: private PEM, public JWK (kid = RFC 7638 thumbprint), JWKS documents.

`keygen` keeps a development key pair in a directory (`private.pem`, 0600, and `jwks.json`); it is
idempotent and keeps the other keys already published in `jwks.json` (rotation).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_jwk(public: Ed25519PublicKey, kid: str | None = None) -> dict[str, str]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    # RFC 7638 thumbprint: a kid derived from the key itself, stable across runs.
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    thumbprint = _b64url(hashlib.sha256(canonical).digest())
    return {**jwk, "kid": kid or thumbprint, "alg": ALGORITHM, "use": "sig"}


def load_private(private_pem: str) -> Ed25519PrivateKey:
    """The Ed25519 private key of a PEM (PKCS#8); `ValueError` for any other kind of key."""
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
    return _public_jwk(load_private(private_pem).public_key(), kid)


def jwks(public_jwks: list[dict[str, str]]) -> str:
    """A JWKS document (`{"keys": [...]}`) as JSON text, the form `JwtVerifier` and settings take."""
    return json.dumps({"keys": public_jwks}, indent=2)


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
