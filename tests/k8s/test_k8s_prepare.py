"""infra/k8s/prepare.sh, run against a stand-in kubectl: it applies the namespace, creates the JWT
Secret from a key pair the services accept, and never replaces an existing Secret."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from brigade_common.auth.keys import public_jwk
from brigade_common.auth.tokens import mint_token
from brigade_common.auth.verifier import JwtVerifier

REPO = Path(__file__).resolve().parents[2]

# Logs every call; `get secret` fails unless FAKE_SECRET_EXISTS is set; `create secret` keeps copies
# of the files it was given.
FAKE_KUBECTL = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
if [[ "$*" == *" get secret "* ]]; then [[ -n "${FAKE_SECRET_EXISTS:-}" ]]; exit; fi
if [[ "$*" == *" create secret generic "* ]]; then
  for arg in "$@"; do
    if [[ "$arg" == --from-file=* ]]; then
      spec="${arg#--from-file=}"; cp "${spec#*=}" "$FAKE_OUT/${spec%%=*}"
    fi
  done
fi
"""


@pytest.fixture
def fake(tmp_path: Path) -> dict[str, str]:
    assert shutil.which("uv"), "uv must be on PATH (`make install` installs it)"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    out = tmp_path / "secret"
    out.mkdir()
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_LOG": str(tmp_path / "kubectl.log"),
        "FAKE_OUT": str(out),
        "BRIGADE_JWT_DIR": str(tmp_path / "jwt"),
        "SKAFFOLD_KUBE_CONTEXT": "kind-test",
    }


def prepare(env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        ["bash", str(REPO / "infra/k8s/prepare.sh")],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return Path(env["FAKE_LOG"]).read_text().splitlines()


def test_creates_the_jwt_secret_with_a_working_key_pair(fake: dict[str, str]) -> None:
    calls = prepare(fake)
    assert calls[0] == f"--context kind-test apply -f {REPO}/infra/k8s/namespace.yaml"
    assert any(c.startswith("--context kind-test -n brigade create secret generic brigade-jwt ") for c in calls)
    out = Path(fake["FAKE_OUT"])
    pem = (out / "private.pem").read_text()
    jwks = (out / "jwks.json").read_text()
    assert "PRIVATE KEY" not in jwks
    assert json.loads(jwks)["keys"]
    token = mint_token(pem, public_jwk(pem)["kid"], sub="alice", roles=["customer"])
    assert JwtVerifier(jwks).verify(token).sub == "alice"


def test_keeps_an_existing_secret(fake: dict[str, str]) -> None:
    calls = prepare({**fake, "FAKE_SECRET_EXISTS": "1"})
    assert not any(" create " in c for c in calls)
    assert not Path(fake["BRIGADE_JWT_DIR"]).exists(), "no key is made when the Secret exists"
