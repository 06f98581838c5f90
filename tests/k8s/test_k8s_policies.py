"""Policies every rendered Brigade object must meet, under each values set the chart ships with:
containers, availability, migrations, images and secrets, dev mode (network and ingress: test_k8s_network.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from tests.k8s.build_config import CHART_CATALOG
from tests.k8s.objects import (
    APP_UID,
    all_containers,
    component_of,
    component_setting,
    env_of,
    is_brigade_service,
    pod_labels,
    pod_spec,
    quantity,
    selects,
    workloads,
)
from tests.k8s.render import REPO

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.k8s.render import Rendered

# ---------------------------------------------------------------------------------------- containers


def test_every_container_runs_unprivileged_on_a_read_only_root(rendered: Rendered) -> None:
    for workload in workloads(rendered):
        name = f"{workload['kind']}/{workload['metadata']['name']}"
        spec = pod_spec(workload)
        pod_sc = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, name
        tmp_volumes = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for c in all_containers(spec):
            where = f"{name} container {c['name']}"
            sc = c.get("securityContext", {})
            effective = {**pod_sc, **sc}
            assert effective.get("runAsNonRoot") is True, where
            assert effective.get("runAsUser") == APP_UID, where
            assert effective.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("privileged", False) is False, where
            assert "ALL" in sc.get("capabilities", {}).get("drop", []), where
            assert not sc.get("capabilities", {}).get("add"), where
            tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            assert tmp, f"{where}: no /tmp mount"
            assert tmp[0]["name"] in tmp_volumes, f"{where}: /tmp must be an emptyDir"


def test_every_container_has_requests_within_limits(rendered: Rendered) -> None:
    for workload in workloads(rendered):
        for c in all_containers(pod_spec(workload)):
            where = f"{workload['kind']}/{workload['metadata']['name']} container {c['name']}"
            resources = c.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{where}: {kind} cpu+memory"
            for res in ("cpu", "memory"):
                assert quantity(resources["requests"][res]) <= quantity(resources["limits"][res]), where


def test_every_server_has_startup_readiness_and_liveness_probes(rendered: Rendered) -> None:
    for deployment in rendered.of_kind("Deployment"):
        name = component_of(deployment)
        (container,) = pod_spec(deployment)["containers"]
        port_names = {p["name"] for p in container["ports"]}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert probe in container, f"{name}: no {probe}"
            assert container[probe]["httpGet"]["port"] in port_names, f"{name}: {probe} port"
        if is_brigade_service(name):
            assert container["startupProbe"]["httpGet"]["path"] == "/readyz", name
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name


def test_brigade_services_listen_on_8080_with_the_settings_the_contract_names(rendered: Rendered) -> None:
    for deployment in rendered.of_kind("Deployment"):
        name = component_of(deployment)
        if not is_brigade_service(name):
            continue
        (container,) = pod_spec(deployment)["containers"]
        prefix = name.upper().replace("-", "_")
        env = env_of(container)
        assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        assert env[f"{prefix}_HTTP_HOST"]["value"] == "0.0.0.0"
        assert env[f"{prefix}_HTTP_PORT"]["value"] == "8080"
        assert env[f"{prefix}_LOG_FORMAT"]["value"] == "json"
        if component_setting(name, "nats"):
            assert env[f"{prefix}_NATS_URL"]["value"] == "nats://nats:4222"
        else:
            assert f"{prefix}_NATS_URL" not in env
        # No key is mounted anywhere: tokens are verified with the auth service's keys, over NATS.
        assert f"{prefix}_JWT_PUBLIC_KEYS" not in env
        if component_setting(name, "jwt"):
            assert env[f"{prefix}_JWT_AUDIENCE"]["value"] == "brigade"
        if component_setting(name, "database", "enabled"):
            ref = env[f"{prefix}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": f"brigade-db-{name}", "key": "uri"}
        else:
            assert f"{prefix}_DATABASE_URL" not in env
        command = container["command"]
        assert command == ["python", "-m", f"brigade_{name}", "api"] or (
            command[0] == "watchfiles" and f"python -m brigade_{name} api" in command
        ), command


# ------------------------------------------------------------------------- availability and scaling


def test_every_deployment_has_a_pod_disruption_budget(rendered: Rendered) -> None:
    pdbs = rendered.of_kind("PodDisruptionBudget")
    for deployment in rendered.of_kind("Deployment"):
        selector = deployment["spec"]["selector"]
        assert selects(selector, pod_labels(deployment))
        matching = [p for p in pdbs if p["spec"]["selector"] == selector]
        assert len(matching) == 1, f"{deployment['metadata']['name']}: PDBs {matching}"


def test_every_service_selects_only_its_servers(rendered: Rendered) -> None:
    deployments = rendered.of_kind("Deployment")
    jobs = rendered.of_kind("Job")
    for service in rendered.of_kind("Service"):
        selector = {"matchLabels": service["spec"]["selector"]}
        backing = [d for d in deployments if selects(selector, pod_labels(d))]
        assert [d["metadata"]["name"] for d in backing] == [service["metadata"]["name"]]
        assert not [j for j in jobs if selects(selector, pod_labels(j))], "a migration pod behind a Service"
        first, *extra = service["spec"]["ports"]
        assert first["targetPort"] == "http"
        (container,) = pod_spec(backing[0])["containers"]
        named = {p["name"]: p["containerPort"] for p in container["ports"]}
        for port in extra:  # a component's extraPorts (Mailpit's smtp): each one the container listens on
            assert named[port["targetPort"]] == port["port"], service["metadata"]["name"]


def test_production_runs_two_replicas_at_least_and_autoscales(render: Callable[[str], Rendered]) -> None:
    rendered = render("prod")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in rendered.of_kind("HorizontalPodAutoscaler")}
    for deployment in rendered.of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        assert "replicas" not in deployment["spec"], f"{name}: replicas belong to the HPA"
        assert hpas[name]["spec"]["minReplicas"] >= 2
        for c in pod_spec(deployment)["containers"]:
            assert quantity(c["resources"]["limits"]["memory"]) <= quantity("512Mi"), name


def test_development_runs_one_replica_without_autoscaling(render: Callable[[str], Rendered]) -> None:
    rendered = render("default")
    assert not rendered.of_kind("HorizontalPodAutoscaler")
    assert {d["spec"]["replicas"] for d in rendered.of_kind("Deployment")} == {1}


@pytest.mark.parametrize(("scenario", "nats_values"), [("prod", "nats-prod.yaml"), ("kind", "nats.yaml")])
def test_every_stream_is_kept_on_every_server_of_the_nats_it_runs_with(
    render: Callable[[str], Rendered], scenario: str, nats_values: str
) -> None:
    """Production's three-server NATS keeps each stream on all three, so losing one loses nothing;
    the development cluster's one server keeps one copy (R3 could not be placed there at all)."""
    values = yaml.safe_load((REPO / "infra/helm/values" / nats_values).read_text())
    cluster = values.get("config", {}).get("cluster", {})
    servers = cluster.get("replicas", 1) if cluster.get("enabled") else 1
    seen = {}
    for deployment in render(scenario).of_kind("Deployment"):
        name = component_of(deployment)
        if is_brigade_service(name) and component_setting(name, "nats"):
            prefix = name.upper().replace("-", "_")
            seen[name] = env_of(pod_spec(deployment)["containers"][0])[f"{prefix}_NATS_REPLICAS"]["value"]
    assert seen and set(seen.values()) == {str(servers)}, seen


# -------------------------------------------------------------------------------------- migrations


def hook_jobs(rendered: Rendered, step: str) -> dict[str, dict[str, Any]]:
    jobs = [j for j in rendered.of_kind("Job") if pod_labels(j).get("brigade.io/step") == step]
    return {component_of(j): j for j in jobs}


def test_every_database_component_migrates_in_a_pre_install_and_pre_upgrade_hook(rendered: Rendered) -> None:
    jobs = hook_jobs(rendered, "migrate")
    deployments = {component_of(d) for d in rendered.of_kind("Deployment")}
    with_database = {n for n in deployments if component_setting(n, "database", "enabled")}
    assert set(jobs) == with_database
    for name, job in jobs.items():
        hooks = set(job["metadata"]["annotations"]["helm.sh/hook"].split(","))
        assert {"pre-install", "pre-upgrade"} <= hooks, name
        (container,) = pod_spec(job)["containers"]
        assert container["command"] == ["python", "-m", f"brigade_{name}", "migrate"]
        assert pod_spec(job)["restartPolicy"] == "Never"
        # Same settings as the server: the same Settings class validates them at start-up.
        server = pod_spec(rendered.get("Deployment", name))["containers"][0]
        assert env_of(container) == env_of(server)


def test_demo_data_is_seeded_after_migrating_outside_production(render: Callable[[str], Rendered]) -> None:
    rendered = render("default")
    migrations, seeds = hook_jobs(rendered, "migrate"), hook_jobs(rendered, "seed")
    assert set(seeds) == {name for name, service in CHART_CATALOG.items() if service["seed"]}
    for name, job in seeds.items():
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == migrations[name]["metadata"]["annotations"]["helm.sh/hook"]
        assert int(annotations["helm.sh/hook-weight"]) > int(
            migrations[name]["metadata"]["annotations"]["helm.sh/hook-weight"]
        )
        assert pod_spec(job)["containers"][0]["command"] == ["python", "-m", f"brigade_{name}", "seed"]
    assert not hook_jobs(render("prod"), "seed"), "no demo data in production"


# ------------------------------------------------------------------------------- images and secrets


def test_production_images_carry_an_explicit_tag_never_latest(render: Callable[[str], Rendered]) -> None:
    for scenario in ("prod", "all-prod"):
        for workload in workloads(render(scenario)):
            for c in all_containers(pod_spec(workload)):
                image = c["image"]
                name, _, tag = image.rpartition(":")
                assert name, f"{image}: no tag"
                assert "/" not in tag, f"{image}: no tag"
                assert tag not in ("", "latest"), image
                assert c["imagePullPolicy"] == "IfNotPresent"


def test_the_app_chart_renders_no_secret_and_references_only_generated_ones(
    rendered: Rendered, render_postgres: Callable[..., Rendered]
) -> None:
    assert not rendered.of_kind("Secret"), "credentials come from other releases, never from this chart"
    referenced = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for w in workloads(rendered)
        for c in all_containers(pod_spec(w))
        for e in c.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    # Every Secret referenced is a database credential the brigade-postgres chart generates.
    assert referenced <= render_postgres().names("Secret")


def test_generated_database_credentials_are_random_not_literal(
    render_postgres: Callable[..., Rendered],
) -> None:
    first, second = render_postgres(), render_postgres()
    for a in first.of_kind("Secret"):
        b = second.get("Secret", a["metadata"]["name"])
        assert a["data"]["username"] == b["data"]["username"]
        assert a["data"]["password"] != b["data"]["password"], a["metadata"]["name"]
        assert a["data"]["uri"] != b["data"]["uri"]


SECRETISH = re.compile(r"pass(word)?|secret|token|private|credential|api_?key|dsn|database_url", re.I)
# Keys that name where a credential lives (a Secret, a key in it), never the credential itself.
REFERENCE_KEY = re.compile(r"(existingSecret|secretName|secretKey|secretPrefix|generateSecrets|Keys?Key)$")


def literal_secrets(node: Any, path: str = "") -> Iterator[str]:
    """Paths of values that look like an inline credential (a secretish key with a literal value)."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if (
                SECRETISH.search(str(key))
                and not REFERENCE_KEY.search(str(key))
                and isinstance(value, str | int)
                and not isinstance(value, bool)
                and value != ""
            ):
                yield here
            yield from literal_secrets(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, dict) and "name" in item and "value" in item and SECRETISH.search(item["name"]):
                yield f"{path}[{i}]"
            yield from literal_secrets(item, f"{path}[{i}]")


def values_files() -> list[Path]:
    return [*(REPO / "infra/helm").glob("*/values.yaml"), *(REPO / "infra/helm/values").glob("*.yaml")]


@pytest.mark.parametrize("path", values_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_values_file_holds_a_credential(path: Path) -> None:
    assert list(literal_secrets(yaml.safe_load(path.read_text()))) == []


def test_the_credential_scan_would_catch_one() -> None:
    leaked = {
        "jwt": {"issuer": "brigade", "privateKey": "-----BEGIN"},
        "env": [{"name": "KITCHEN_DATABASE_URL", "value": "postgresql://u:p@h/db"}],
    }
    assert list(literal_secrets(leaked)) == [".jwt.privateKey", ".env[0]"]


@pytest.mark.parametrize(
    "template",
    sorted((REPO / "infra/helm").glob("*/templates/*.yaml")),
    ids=lambda p: str(p.relative_to(REPO / "infra/helm")),
)
def test_no_template_writes_a_literal_into_a_secret(template: Path) -> None:
    text = template.read_text()
    if not re.search(r"^kind:\s*Secret\s*$", text, re.M):
        return
    data = re.split(r"^data:", text, maxsplit=1, flags=re.M)
    assert len(data) == 2, f"{template.name}: a Secret without data"
    for line in data[1].splitlines():
        if re.match(r"^\s{2}\w+:", line):
            assert "{{" in line, f"{template.name}: literal Secret data {line.strip()!r}"


# ------------------------------------------------------------------------------------------ dev mode


def test_dev_mode_syncs_sources_into_writable_folders_and_restarts_on_change(
    render: Callable[[str], Rendered],
) -> None:
    for deployment in render("kind").of_kind("Deployment"):
        name = component_of(deployment)
        if not component_setting(name, "devSync"):
            continue
        spec = pod_spec(deployment)
        (container,) = spec["containers"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        empty_dirs = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for folder in (f"/app/services/{name}/src", "/app/libs"):
            assert mounts.get(folder) in empty_dirs, f"{name}: {folder} is not a writable emptyDir"
        assert container["command"][0] == "watchfiles"
        (seed,) = spec["initContainers"]
        assert f"/app/services/{name}/src/." in seed["command"][-1]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
