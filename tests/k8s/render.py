"""Rendering the charts with the project's pinned helm, for the offline tests (tests/k8s) and the
image tests (tests/images)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "infra/helm/brigade"
POSTGRES_CHART = REPO / "infra/helm/brigade-postgres"
VALUES_DIR = REPO / "infra/helm/values"
NAMESPACE = "brigade"
# The Kubernetes version the charts are rendered for (Capabilities.KubeVersion).
RENDER_KUBE_VERSION = "1.34.0"


def find_helm() -> str | None:
    local = REPO / ".tools/bin/helm"
    if local.is_file():
        return str(local)
    return shutil.which("helm")


def run_helm(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm, *args], capture_output=True, text=True, check=False, cwd=REPO)


@dataclass
class Rendered:
    """The objects of one `helm template` run."""

    docs: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        for doc in self.of_kind(kind):
            if doc["metadata"]["name"] == name:
                return doc
        raise AssertionError(f"no {kind} named {name!r} rendered")

    def names(self, kind: str) -> set[str]:
        return {d["metadata"]["name"] for d in self.of_kind(kind)}


def template(helm: str, chart: Path, release: str, *args: str) -> Rendered:
    result = run_helm(
        helm, "template", release, str(chart), "--namespace", NAMESPACE, "--kube-version", RENDER_KUBE_VERSION, *args
    )
    assert result.returncode == 0, f"helm template {chart.name} {' '.join(args)} failed:\n{result.stderr}"
    return Rendered([d for d in yaml.safe_load_all(result.stdout) if d])
