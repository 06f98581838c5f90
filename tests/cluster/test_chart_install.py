"""The charts installed for real (`helm install`, not `template`) into the local control plane: what the
API server accepts, stores and refuses, the hooks' order, and upgrades and rollbacks.

Always on the local control plane (conftest.py), even under `make test-cluster`: these tests install,
break and roll back releases, which no one wants on a cluster that serves."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from brigade_common.testing.waiting import wait_until
from tests.cluster.conftest import CHART, POSTGRES_CHART, api_warnings
from tests.cluster.kube import JobWatch, await_rollout, job_complete

if TYPE_CHECKING:
    from tests.cluster.kube import Release, Tools

SERVER_SIDE = ["--server-side", "--dry-run=server", "--validate=strict", "--force-conflicts", "--field-manager=helm"]


def by_kind(docs: list[dict[str, Any]]) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for d in docs:
        kinds.setdefault(d["kind"], set()).add(d["metadata"]["name"])
    return kinds


def stored(release: Release, docs: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The same objects as the API server has them (kubectl get -f the manifest)."""
    out = release.tools.kubectl("get", "-n", release.namespace, "-o", "json", "-f", "-", stdin=yaml.safe_dump_all(docs))
    items = yaml.safe_load(out.stdout)
    return by_kind(items.get("items", [items]))


@pytest.mark.parametrize("values", ["kind_release", "prod_release"])
def test_every_object_of_both_charts_is_stored_and_passes_strict_server_side_validation(
    values: str, request: pytest.FixtureRequest
) -> None:
    release: Release = request.getfixturevalue(values)
    for name, kinds in [
        ("brigade", {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "Ingress"}),
        ("brigade-postgres", {"Secret", "Cluster", "Database"}),
    ]:
        docs = release.manifest(name)
        rendered = by_kind(docs)
        assert kinds <= set(rendered), f"{name}: {sorted(rendered)}"
        assert stored(release, docs) == rendered
        # Field by field, against the server's own schemas (built-in kinds and the CRDs alike).
        check = release.tools.kubectl(
            "apply", "-n", release.namespace, *SERVER_SIDE, "-f", "-", stdin=yaml.safe_dump_all(docs), check=False
        )
        assert check.returncode == 0, check.stderr
        assert "Warning" not in check.stderr, check.stderr
    if values == "prod_release":
        hpas = by_kind(release.manifest("brigade"))["HorizontalPodAutoscaler"]
        assert hpas == {
            d.metadata.name
            for d in release.kube.autoscaling.list_namespaced_horizontal_pod_autoscaler(release.namespace).items
        }


def test_hook_jobs_complete_in_weight_order_and_are_deleted_once_they_succeed(kind_release: Release) -> None:
    hooks = [h for h in kind_release.hooks("brigade") if h["kind"] == "Job"]
    weights = {h["metadata"]["name"]: int(h["metadata"]["annotations"]["helm.sh/hook-weight"]) for h in hooks}
    assert set(weights.values()) == {0, 10}, weights  # migrate, then seed (kind values keep the demo data)
    events = kind_release.install_jobs.events
    assert set(kind_release.install_jobs.created()) == set(weights)

    def first(name: str, what: Any) -> int:
        return next(i for i, (kind, obj) in enumerate(events) if obj["metadata"]["name"] == name and what(kind, obj))

    completed = {n: first(n, lambda kind, obj: job_complete(obj)) for n in weights}
    created = {n: first(n, lambda kind, obj: kind == "ADDED") for n in weights}
    deleted = {n: first(n, lambda kind, obj: kind == "DELETED") for n in weights}
    for name, weight in weights.items():
        earlier = [n for n, w in weights.items() if w < weight]
        # Helm starts a hook only once every lighter one has completed.
        assert all(completed[e] < created[name] for e in earlier), (name, earlier)
        assert completed[name] < deleted[name], name
    assert not kind_release.kube.batch.list_namespaced_job(kind_release.namespace).items


def test_our_cluster_and_database_are_validated_and_defaulted_by_the_cnpg_crds(
    kind_release: Release, cnpg_crds: list[str]
) -> None:
    assert {"clusters.postgresql.cnpg.io", "databases.postgresql.cnpg.io"} <= set(cnpg_crds)
    custom = kind_release.kube.custom
    cluster = custom.get_namespaced_custom_object(
        "postgresql.cnpg.io", "v1", kind_release.namespace, "clusters", "brigade-pg"
    )
    database = custom.get_namespaced_custom_object(
        "postgresql.cnpg.io", "v1", kind_release.namespace, "databases", "brigade-pg-brigade"
    )
    roles = {r["name"] for r in cluster["spec"]["managed"]["roles"]}
    assert {s["name"] for s in database["spec"]["schemas"]} == roles
    # Defaults the API server filled in from the CRD's schema: the object went through it.
    assert cluster["spec"]["logLevel"] == "info"
    assert database["spec"]["ensure"] == "present"


def install_fails(tools: Tools, namespace: str, chart: Any, release: str, *args: str) -> str:
    tools.namespace(namespace)
    result = tools.helm("install", release, str(chart), "--namespace", namespace, *args, check=False)
    tools.helm("uninstall", release, "--namespace", namespace, check=False)
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_a_cnpg_field_of_the_wrong_type_fails_with_the_api_servers_message(tools: Tools, cnpg_crds: list[str]) -> None:
    # The chart's own schema leaves `resources` free-form; the CRD does not.
    error = install_fails(
        tools, "broken-pg", POSTGRES_CHART, "brigade-postgres", "--set", "cluster.resources.limits=1Gi"
    )
    assert 'Cluster.postgresql.cnpg.io "brigade-pg" is invalid' in error, error
    assert "spec.resources.limits" in error and "must be of type object" in error, error


def test_an_unknown_field_in_a_component_fails_with_the_api_servers_message(tools: Tools, cnpg_crds: list[str]) -> None:
    # `valueFrom` of an env entry passes through to the container as it is: a typo reaches the API
    # server. Helm creates objects with the server's default field validation, which only warns (and
    # drops the field): the install fixtures refuse any such warning, and the strict server-side check
    # of every release refuses the object with the server's own message.
    namespace = "broken-app"
    typo = [
        "--set", "components.kitchen.env[0].name=EXTRA",
        "--set", "components.kitchen.env[0].valueFrom.secretKeyReff.name=x",
    ]  # fmt: skip
    tools.namespace(namespace)
    installed = tools.helm("install", "brigade", str(CHART), "--namespace", namespace, *typo, check=False)
    manifest = tools.helm("get", "manifest", "brigade", "--namespace", namespace, check=False).stdout
    tools.helm("uninstall", "brigade", "--namespace", namespace, check=False)
    field = 'unknown field "spec.template.spec.containers[0].env[11].valueFrom.secretKeyReff"'
    assert api_warnings(installed.stderr) == [field], installed.stderr
    check = tools.kubectl("apply", "-n", namespace, *SERVER_SIDE, "-f", "-", stdin=manifest, check=False)
    assert check.returncode != 0, check.stdout
    # Server-side apply types the object against the server's schema and names the path it refuses.
    assert "Error from server" in check.stderr and "(broken-app/kitchen; apps/v1, Kind=Deployment)" in check.stderr
    assert '.env[name="EXTRA"].valueFrom.secretKeyReff: field not declared in schema' in check.stderr, check.stderr


def secrets(release: Release) -> dict[str, dict[str, str]]:
    items = release.kube.core.list_namespaced_secret(
        release.namespace, label_selector="app.kubernetes.io/instance=brigade-postgres"
    ).items
    return {s.metadata.name: {k: base64.b64decode(v).decode() for k, v in s.data.items()} for s in items}


def test_upgrade_and_rollback_keep_the_passwords_and_run_only_the_hooks_they_should(prod_release: Release) -> None:
    release, kube = prod_release, prod_release.kube
    before = secrets(release)
    assert before and all(len(s["password"]) == 32 for s in before.values())

    def max_connections() -> str:
        c = kube.custom.get_namespaced_custom_object(
            "postgresql.cnpg.io", "v1", release.namespace, "clusters", "brigade-pg"
        )
        return str(c["spec"]["postgresql"]["parameters"]["max_connections"])

    # PostgreSQL: a changed parameter reaches the Cluster; the generated passwords do not move.
    release.helm(
        "upgrade",
        "brigade-postgres",
        str(POSTGRES_CHART),
        "--reuse-values",
        "--set-string",
        "cluster.parameters.max_connections=300",
    )
    assert max_connections() == "300"
    assert secrets(release) == before

    # The app: an upgrade runs the migrations again (pre-upgrade hooks) and rolls out the change.
    with JobWatch(kube.batch, release.namespace) as upgrade:
        release.helm(
            "upgrade", "brigade", str(CHART), *release.values, "--set", "components.kitchen.replicas=3",
            "--set", "components.kitchen.autoscaling.enabled=false", "--wait", "--timeout", "120s",
        )  # fmt: skip
    migrations = {h["metadata"]["name"] for h in release.hooks("brigade") if h["kind"] == "Job"}
    assert set(upgrade.created()) == migrations
    assert kube.apps.read_namespaced_deployment("kitchen", release.namespace).status.available_replicas == 3

    # Rollback: the previous values come back, and no hook runs (they are pre-install/pre-upgrade only).
    with JobWatch(kube.batch, release.namespace) as rollback:
        release.helm("rollback", "brigade", "1", "--wait", "--timeout", "120s")
        release.helm("rollback", "brigade-postgres", "1", "--wait", "--timeout", "60s")
    assert rollback.created() == []
    assert max_connections() == "200"
    assert secrets(release) == before

    def kitchen_back() -> bool:
        d = kube.apps.read_namespaced_deployment("kitchen", release.namespace)
        return d.spec.replicas == 2 and d.status.available_replicas == 2

    wait_until(kitchen_back, 60, "kitchen back at 2 replicas, under its HPA")
    hpa = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler("kitchen", release.namespace)
    assert hpa.spec.scale_target_ref.name == "kitchen"
    history = yaml.safe_load(release.helm("history", "brigade", "-o", "yaml").stdout)
    assert [h["status"] for h in history] == ["superseded", "superseded", "deployed"]


def test_each_pdb_of_the_prod_values_lets_one_pod_of_its_deployment_go_at_a_time(prod_release: Release) -> None:
    # The disruption controller counts the pods each PodDisruptionBudget selects: two per component.
    from kubernetes import client

    kube = await_rollout(prod_release.kube)
    policy = client.PolicyV1Api(kube.api)
    deployments = {d.metadata.name for d in kube.apps.list_namespaced_deployment(kube.namespace).items}

    def budgets() -> dict[str, tuple[int, int]] | None:
        pdbs = policy.list_namespaced_pod_disruption_budget(kube.namespace).items
        found = {p.metadata.name: (p.status.expected_pods, p.status.disruptions_allowed) for p in pdbs}
        return found if set(found) == deployments and set(found.values()) == {(2, 1)} else None

    wait_until(budgets, 60, "every PDB expecting 2 pods and allowing 1 disruption", 0.2)
