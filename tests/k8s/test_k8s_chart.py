"""The charts lint, render, and every object they render is valid Kubernetes, checked offline."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import kubernetes_validate
import pytest

from tests.k8s.build_config import CHART_CATALOG

if TYPE_CHECKING:
    from tests.k8s.render import Rendered

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "infra/helm/brigade"
VALUES = REPO / "infra/helm/values"
HelmRun = Callable[..., subprocess.CompletedProcess[str]]
# The oldest Kubernetes the charts declare (Chart.yaml kubeVersion); the newest is the latest one
# kubernetes-validate ships schemas for.
OLDEST_KUBE = "1.29"
# Custom resources have no upstream schema: test_k8s_postgres.py checks them structurally.
CUSTOM_KINDS = {"Cluster", "Database"}


@pytest.mark.parametrize(
    ("chart", "values"),
    [
        ("brigade", None),
        ("brigade", "brigade-prod.yaml"),
        ("brigade", "brigade-kind.yaml"),
        ("brigade", "brigade-load.yaml"),
        ("brigade-postgres", None),
        ("brigade-postgres", "brigade-postgres-prod.yaml"),
    ],
)
def test_helm_lint_is_clean(helm_run: HelmRun, kube_version: str, chart: str, values: str | None) -> None:
    args = ["lint", "--strict", str(REPO / "infra/helm" / chart), "--kube-version", kube_version]
    if values:
        args += ["-f", str(VALUES / values)]
    result = helm_run(*args)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schema validation must work on a machine without network: any connection attempt fails."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("schema validation tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def schema_errors(docs: list[dict[str, Any]]) -> list[str]:
    errors = []
    for doc in docs:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        for version in (OLDEST_KUBE, kubernetes_validate.latest_version()):
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = ".".join(str(p) for p in exc.path)
                errors.append(f"{doc['kind']}/{doc['metadata']['name']} (k8s {version}) {path}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError as exc:
                errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    return errors


@pytest.mark.usefixtures("no_network")
def test_every_brigade_object_matches_the_kubernetes_schema(rendered: Rendered) -> None:
    assert rendered.docs
    assert schema_errors(rendered.docs) == []


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("values", [None, "brigade-postgres-prod.yaml"])
def test_every_postgres_object_matches_the_kubernetes_schema(
    render_postgres: Callable[..., Rendered], values: str | None
) -> None:
    rendered = render_postgres(*(["-f", str(VALUES / values)] if values else []))
    assert rendered.of_kind("Secret")
    assert schema_errors(rendered.docs) == []


def test_schema_validation_catches_a_broken_object() -> None:
    """Guards the guard: strict validation must reject an unknown field and a wrong type."""
    bad = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"ports": [{"port": "eighty"}], "selektor": {}},
    }
    assert len(schema_errors([bad])) == 2


@pytest.mark.parametrize(
    ("flag", "complaint"),
    [
        ("components.kitchen.image.tag=latest", "/components/kitchen/image/tag"),
        ("image.tag=latest", "/image/tag"),
        ("components.kitchen.replica=2", "replica"),
        ("components.kitchen.port=70000", "/components/kitchen/port"),
        ("components.kitchen.settings.ORDER_WAIT_S=5", "/components/kitchen/settings/ORDER_WAIT_S"),
        ("nats.url=http://nats:4222", "/nats/url"),
        ("components.kitchen.env[0].name=X,components.kitchen.env[0].vaule=1", "vaule"),
    ],
)
def test_values_schema_rejects_mistakes(helm_run: HelmRun, flag: str, complaint: str) -> None:
    result = helm_run("template", "brigade", str(CHART), "--set", flag)
    assert result.returncode != 0, f"--set {flag} was accepted"
    assert complaint in result.stderr, result.stderr


def test_the_generated_catalog_says_only_what_a_component_entry_may_say() -> None:
    """The values schema cannot see catalog.yaml (it is a chart file, not values): check it here."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    component = jsonschema.Draft7Validator({"$ref": "#/definitions/component", "definitions": schema["definitions"]})
    for name, entry in CHART_CATALOG.items():
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in component.iter_errors(entry)]
        assert errors == [], f"catalog.yaml {name}"


def test_values_for_a_component_that_is_no_service_fail_the_render(helm_run: HelmRun) -> None:
    """A typo, a removed service, or one whose folder does not exist yet: none can be switched on."""
    result = helm_run("template", "brigade", str(CHART), "--set", "components.kitchn.replicas=2")
    assert result.returncode != 0
    assert 'components.kitchn: no service "kitchn" in catalog.yaml (run `make catalog`)' in result.stderr


def test_a_route_to_an_unknown_component_fails_the_render(helm_run: HelmRun, tmp_path: Path) -> None:
    chart = tmp_path / "brigade"
    shutil.copytree(CHART, chart)
    routes = chart / "routes.yaml"
    routes.write_text(routes.read_text() + "- prefix: /api/kitchn\n  component: kitchn\n")
    result = helm_run("template", "brigade", str(chart))
    assert result.returncode != 0
    assert 'unknown component "kitchn"' in result.stderr
