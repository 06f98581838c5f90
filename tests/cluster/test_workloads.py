"""What the controllers do with Brigade's workloads, on whichever cluster `kube` is (conftest.py): the
local control plane in `make test`, the current context in `make test-cluster`. Rollouts are awaited
through the API, as `kubectl rollout status` would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brigade_common.testing.waiting import wait_until
from tests.cluster.kube import await_rollout

if TYPE_CHECKING:
    from tests.cluster.kube import Kube, Release

KITCHEN_PODS = "app.kubernetes.io/component=kitchen,brigade.io/workload=server"


def ready_pods(kube: Kube, selector: str) -> set[str]:
    pods = kube.core.list_namespaced_pod(kube.namespace, label_selector=selector).items
    return {
        p.metadata.name
        for p in pods
        if p.metadata.deletion_timestamp is None
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    }


def test_a_deleted_pod_is_replaced_by_a_ready_one(rolled_out: Kube) -> None:
    kube = rolled_out
    old = ready_pods(kube, KITCHEN_PODS)
    assert old, f"no ready pod matches {KITCHEN_PODS}"
    victim = sorted(old)[0]
    kube.core.delete_namespaced_pod(victim, kube.namespace, grace_period_seconds=0)

    def replaced_set() -> set[str] | None:
        now = ready_pods(kube, KITCHEN_PODS)
        return now if len(now) == len(old) and victim not in now else None

    replaced = wait_until(replaced_set, 120, "a ready pod in place of the deleted one", 0.1)
    assert len(replaced - old) == 1
    await_rollout(kube)


def test_a_scaled_deployment_rolls_out_and_back(rolled_out: Kube) -> None:
    kube = rolled_out
    before = kube.apps.read_namespaced_deployment_scale("kitchen", kube.namespace).spec.replicas
    try:
        kube.apps.patch_namespaced_deployment_scale("kitchen", kube.namespace, {"spec": {"replicas": before + 2}})
        wait_until(
            lambda: len(ready_pods(kube, KITCHEN_PODS)) == before + 2, 120, f"{before + 2} ready kitchen pods", 0.1
        )
        await_rollout(kube)
    finally:
        kube.apps.patch_namespaced_deployment_scale("kitchen", kube.namespace, {"spec": {"replicas": before}})
    wait_until(lambda: len(ready_pods(kube, KITCHEN_PODS)) == before, 120, f"back to {before} kitchen pods", 0.1)
    await_rollout(kube)


def test_each_hpa_targets_its_own_deployment_and_holds_it_at_its_minimum(prod_release: Release) -> None:
    kube = await_rollout(prod_release.kube)
    hpas = kube.autoscaling.list_namespaced_horizontal_pod_autoscaler(kube.namespace).items
    deployments = {d.metadata.name: d for d in kube.apps.list_namespaced_deployment(kube.namespace).items}
    assert hpas, "the production values autoscale every component"
    for hpa in hpas:
        target = hpa.spec.scale_target_ref
        assert (target.api_version, target.kind) == ("apps/v1", "Deployment"), hpa.metadata.name
        assert target.name == hpa.metadata.name and target.name in deployments
        labels = deployments[target.name].metadata.labels
        assert labels["app.kubernetes.io/component"] == hpa.metadata.labels["app.kubernetes.io/component"]
        assert [m.resource.name for m in hpa.spec.metrics] == ["cpu"]
    # Scaled below its minimum by hand, a Deployment is brought back by its HPA (the controller-manager's
    # HPA controller, no metrics needed for that).
    kitchen = next(h for h in hpas if h.metadata.name == "kitchen")
    kube.apps.patch_namespaced_deployment_scale("kitchen", kube.namespace, {"spec": {"replicas": 1}})
    wait_until(
        lambda: (
            kube.apps.read_namespaced_deployment_scale("kitchen", kube.namespace).spec.replicas
            == kitchen.spec.min_replicas
        ),
        60,
        f"kitchen back at the HPA's minimum ({kitchen.spec.min_replicas})",
        0.1,
    )
    await_rollout(kube)
