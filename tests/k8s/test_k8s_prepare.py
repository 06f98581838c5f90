"""infra/k8s/prepare.sh, run against a stand-in kubectl: it applies the namespace and nothing else.
There is no key Secret any more: the auth service keeps its signing keys in its own schema."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FAKE_KUBECTL = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
"""


@pytest.fixture
def fake(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_LOG": str(tmp_path / "kubectl.log"),
        "SKAFFOLD_KUBE_CONTEXT": "kind-test",
    }


def test_applies_the_namespace_in_skaffolds_context_and_makes_no_secret(fake: dict[str, str]) -> None:
    result = subprocess.run(
        ["bash", str(REPO / "infra/k8s/prepare.sh")], env=fake, cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    calls = Path(fake["FAKE_LOG"]).read_text().splitlines()
    assert calls == [f"--context kind-test apply -f {REPO}/infra/k8s/namespace.yaml"]
