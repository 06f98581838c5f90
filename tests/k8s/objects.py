"""Helpers over rendered chart objects, shared by the policy tests (tests/k8s)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import yaml

from tests.k8s.build_config import chart_component
from tests.k8s.render import CHART

if TYPE_CHECKING:
    from tests.k8s.render import Rendered

ROUTES = yaml.safe_load((CHART / "routes.yaml").read_text())
APP_UID = 10001


def component_setting(name: str, *path: str) -> Any:
    """A component's value as the chart sees it (values, else catalog.yaml, else `defaults`)."""
    node: Any = chart_component(name)
    for key in path:
        node = node[key]
    return node


def is_brigade_service(name: str) -> bool:
    return bool(component_setting(name, "standardEnv"))


def component_of(obj: dict[str, Any]) -> str:
    return obj["metadata"]["labels"]["app.kubernetes.io/component"]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def all_containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def workloads(rendered: Rendered) -> list[dict[str, Any]]:
    return rendered.of_kind("Deployment") + rendered.of_kind("Job")


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "selectors here use matchLabels only"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


_UNITS = {"m": 1e-3, "": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}


def quantity(value: str | int | float) -> float:
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value))
    assert match, f"unexpected quantity {value!r}"
    assert match[2] in _UNITS, f"unexpected unit in {value!r}"
    return float(match[1]) * _UNITS[match[2]]
