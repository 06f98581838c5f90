"""Offline checks of the Kubernetes delivery: the charts are rendered with the project's pinned helm
(`make helm`) and every object is inspected as a cluster would receive it. No cluster, no network."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from tests.k8s.build_config import COMPONENTS
from tests.k8s.render import (
    CHART,
    POSTGRES_CHART,
    RENDER_KUBE_VERSION,
    VALUES_DIR,
    Rendered,
    find_helm,
    run_helm,
    template,
)


@pytest.fixture(scope="session")
def helm() -> str:
    path = find_helm()
    if path is None:
        pytest.fail(
            "helm not found in .tools/bin/helm or on PATH: run `make helm` "
            "(scripts/install-helm.sh builds the pinned version)",
            pytrace=False,
        )
    version = subprocess.run(
        [path, "version", "--template", "{{.Version}}"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not version.startswith("v3."):
        pytest.fail(
            f"{path} is helm {version or '(unknown)'}; these charts need helm v3: run `make helm`", pytrace=False
        )
    return path


@pytest.fixture(scope="session")
def helm_run(helm: str) -> Callable[..., subprocess.CompletedProcess[str]]:
    """helm_run(*args) runs the pinned helm in the repository root and returns the finished process."""
    return lambda *args: run_helm(helm, *args)


@pytest.fixture(scope="session")
def kube_version() -> str:
    return RENDER_KUBE_VERSION


def all_components_args() -> list[str]:
    """--set flags that enable every component the chart knows, the disabled ones included."""
    return [arg for name in COMPONENTS for arg in ("--set", f"components.{name}.enabled=true")]


# The brigade chart under each values set it ships with, and with every component switched on.
SCENARIOS: dict[str, list[str]] = {
    "default": [],
    "kind": ["-f", str(VALUES_DIR / "brigade-kind.yaml")],
    "prod": ["-f", str(VALUES_DIR / "brigade-prod.yaml")],
    "all": all_components_args(),
    "all-prod": ["-f", str(VALUES_DIR / "brigade-prod.yaml"), *all_components_args()],
    # skaffold -p kind,load: the locust load generator in the development cluster.
    "kind-load": ["-f", str(VALUES_DIR / "brigade-kind.yaml"), "-f", str(VALUES_DIR / "brigade-load.yaml")],
}


@pytest.fixture(scope="session")
def render(helm: str) -> Callable[[str], Rendered]:
    """render(scenario) -> Rendered, each scenario rendered once per session."""
    cache: dict[str, Rendered] = {}

    def _render(scenario: str) -> Rendered:
        if scenario not in cache:
            cache[scenario] = template(helm, CHART, "brigade", *SCENARIOS[scenario])
        return cache[scenario]

    return _render


@pytest.fixture(scope="session", params=list(SCENARIOS))
def rendered(request: pytest.FixtureRequest, render: Callable[[str], Rendered]) -> Rendered:
    """The brigade chart, once per scenario."""
    return render(request.param)


@pytest.fixture(scope="session")
def render_postgres(helm: str) -> Callable[..., Rendered]:
    def _render(*args: str) -> Rendered:
        return template(helm, POSTGRES_CHART, "brigade-postgres", *args)

    return _render
