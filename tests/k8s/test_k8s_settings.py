"""The chart's defaults stay in step with the services: every setting a service must be given at
start-up (a pydantic-settings field without default) is set by the chart, in the server Deployment
and in the migration Job alike. The services are the chart's catalog.yaml (generated from the
service catalog, so every one of them is written)."""

from __future__ import annotations

import json
import os
import warnings
from typing import TYPE_CHECKING, Any

import pytest

from brigade_common.catalog import load
from tests.k8s.build_config import CHART_CATALOG, chart_component

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.k8s.render import Rendered


def merged(name: str, key: str) -> Any:
    return chart_component(name)[key]


PYTHON_COMPONENTS = sorted(CHART_CATALOG)


def settings_class(name: str) -> Any:
    return load().get(name).settings


def env_names(field_name: str, field: Any, prefix: str) -> set[str]:
    """The environment variables pydantic-settings reads a field from (case-insensitively)."""
    alias = field.validation_alias or field.alias
    if isinstance(alias, str):
        return {alias.upper()}
    choices = getattr(alias, "choices", None)
    if choices:
        return {c.upper() for c in choices if isinstance(c, str)}
    return {f"{prefix}{field_name}".upper()}


def container_env(workload: dict[str, Any]) -> set[str]:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return {e["name"].upper() for e in container.get("env", [])}


@pytest.mark.parametrize("name", PYTHON_COMPONENTS)
def test_the_chart_sets_every_required_setting(name: str, render: Callable[[str], Rendered]) -> None:
    settings = settings_class(name)
    prefix = str(settings.model_config.get("env_prefix", ""))
    expected_prefix = (merged(name, "envPrefix") or name.upper().replace("-", "_")) + "_"
    assert prefix.upper() == expected_prefix, f"{name}: Settings reads {prefix!r}, the chart writes {expected_prefix!r}"

    rendered = render("all")  # every component on, so later ones are checked already
    workloads = [rendered.get("Deployment", name)]
    if merged(name, "database").get("enabled"):
        workloads.append(rendered.get("Job", f"{name}-migrate"))
    required = {
        field_name: env_names(field_name, field, prefix)
        for field_name, field in settings.model_fields.items()
        if field.is_required()
    }
    for workload in workloads:
        provided = container_env(workload)
        missing = sorted(field_name for field_name, names in required.items() if not names & provided)
        assert not missing, (
            f"{workload['kind']} {workload['metadata']['name']} lacks required settings {missing} "
            f"(env {sorted(n for f in missing for n in required[f])})"
        )

    # The other way round only warns: a setting the chart sets that no field reads is a typo or a
    # service that has not caught up yet.
    known = {n for field_name, field in settings.model_fields.items() for n in env_names(field_name, field, prefix)}
    unread = sorted(n for n in container_env(workloads[0]) if n.startswith(prefix.upper()) and n not in known)
    if unread:
        warnings.warn(
            f"{name}: the chart sets {unread}, which {settings.__module__}.Settings does not read", stacklevel=1
        )


# Stand-ins for what the referenced Secrets hold, by key.
SECRET_SAMPLES = {
    "jwks.json": json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": "A" * 43}]}),
    "uri": "postgresql://kitchen:secret@brigade-pg-rw.brigade.svc:5432/brigade",
    "private.pem": "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
}


@pytest.mark.parametrize("name", PYTHON_COMPONENTS)
def test_the_settings_accept_the_chart_environment(
    name: str, render: Callable[[str], Rendered], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings() validates with exactly what the Deployment sets (types, enums, bounds)."""
    settings = settings_class(name)
    prefix = str(settings.model_config.get("env_prefix", "")).upper()
    for key in list(os.environ):
        if key.upper().startswith(prefix):
            monkeypatch.delenv(key)
    (container,) = render("all").get("Deployment", name)["spec"]["template"]["spec"]["containers"]
    for entry in container["env"]:
        if "value" in entry:
            monkeypatch.setenv(entry["name"], entry["value"])
        else:
            monkeypatch.setenv(entry["name"], SECRET_SAMPLES[entry["valueFrom"]["secretKeyRef"]["key"]])
    loaded = settings()
    assert loaded.http_host == "0.0.0.0"
    assert loaded.http_port == 8080
    assert loaded.log_format == "json"
