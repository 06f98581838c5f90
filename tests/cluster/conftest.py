"""Tests against a running cluster: `make test-cluster` (uv run pytest tests/cluster), current kube
context, Brigade deployed by `skaffold dev -p kind` or `skaffold run`.

They run only when asked for by path, so a bare `pytest` over the repository leaves them out (they
are not part of `make test`). Asked for with no reachable cluster, the run stops with exit code 3
and says so: it never passes by skipping everything.

Environment: BRIGADE_NAMESPACE (brigade), BRIGADE_URL (http://kitchen.local),
BRIGADE_KUBE_CONTEXT (the current one), BRIGADE_ROLLOUT_TIMEOUT_S (600).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from brigade_common.testing.waiting import wait_until
from tests.journey import new_customer, new_staff
from tests.optin import opt_in

HERE = Path(__file__).resolve().parent


def _unreachable_reason() -> str | None:
    from kubernetes import client, config

    try:
        config.load_kube_config(context=os.environ.get("BRIGADE_KUBE_CONTEXT") or None)
    except Exception as exc:
        try:
            config.load_incluster_config()
        except Exception:
            return f"{type(exc).__name__}: {exc}"
    try:
        client.VersionApi().get_code(_request_timeout=5)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def missing() -> str | None:
        reason = _unreachable_reason()
        return reason and f"no Kubernetes cluster reachable via current context: {reason}"

    opt_in(config, items, HERE, missing)


# ---------------------------------------------------------------------------------------- fixtures


@dataclass
class Kube:
    core: Any
    apps: Any
    custom: Any
    namespace: str


AUTH_PODS = "app.kubernetes.io/name=brigade,app.kubernetes.io/component=auth"


@pytest.fixture(scope="session")
def kube() -> Kube:
    from kubernetes import client

    return Kube(
        client.CoreV1Api(),
        client.AppsV1Api(),
        client.CustomObjectsApi(),
        os.environ.get("BRIGADE_NAMESPACE", "brigade"),
    )


def rollout_pending(kube: Kube) -> str | None:
    """What is not rolled out yet in the namespace (Deployments, StatefulSets, PostgreSQL), or None."""
    pending = []
    for d in kube.apps.list_namespaced_deployment(kube.namespace).items:
        want, st = d.spec.replicas or 0, d.status
        if (
            (st.observed_generation or 0) < d.metadata.generation
            or (st.updated_replicas or 0) < want
            or (st.available_replicas or 0) < want
            or (st.replicas or 0) > want
        ):
            pending.append(f"deployment/{d.metadata.name}")
    for s in kube.apps.list_namespaced_stateful_set(kube.namespace).items:
        if (s.status.ready_replicas or 0) < (s.spec.replicas or 0):
            pending.append(f"statefulset/{s.metadata.name}")
    clusters = kube.custom.list_namespaced_custom_object("postgresql.cnpg.io", "v1", kube.namespace, "clusters")
    for c in clusters["items"]:
        if c.get("status", {}).get("readyInstances", 0) < c["spec"]["instances"]:
            pending.append(f"cluster/{c['metadata']['name']}")
    if not kube.apps.list_namespaced_deployment(kube.namespace).items:
        pending.append("no Deployment in the namespace yet")
    return ", ".join(pending) or None


@pytest.fixture(scope="session")
def rolled_out(kube: Kube) -> Kube:
    timeout = float(os.environ.get("BRIGADE_ROLLOUT_TIMEOUT_S", "600"))
    try:
        wait_until(lambda: rollout_pending(kube) is None, timeout, f"rollout in namespace {kube.namespace}", 2)
    except AssertionError as exc:
        pytest.fail(f"{exc}; still pending: {rollout_pending(kube)}", pytrace=False)
    return kube


@pytest.fixture(scope="session")
def http(rolled_out: Kube) -> Iterator[httpx.Client]:
    base_url = os.environ.get("BRIGADE_URL", "http://kitchen.local")
    with httpx.Client(base_url=base_url, timeout=30) as client:
        try:
            client.get("/")
        except httpx.ConnectError as exc:
            pytest.fail(
                f"{base_url} does not answer ({exc}): on kind, add `127.0.0.1 kitchen.local` to "
                "/etc/hosts and check the ingress-nginx controller is running",
                pytrace=False,
            )
        yield client


@pytest.fixture(scope="session")
def customer_token(http: httpx.Client) -> str:
    """A customer of the cluster's own auth service, signed up and in through the Ingress."""
    return new_customer(http, "cluster-test")


@pytest.fixture(scope="session")
def staff_token(http: httpx.Client, rolled_out: Kube) -> str:
    """Staff read the pantry and the warehouse: a user made admin (and staff) by the operator's
    command in the auth pod, as an operator makes the first one."""
    from kubernetes.stream import stream

    def grant_admin(email: str) -> None:
        pods = rolled_out.core.list_namespaced_pod(rolled_out.namespace, label_selector=AUTH_PODS).items
        assert pods, f"no pod matches {AUTH_PODS}"
        command = ["python", "-m", "brigade_auth", "admin", email]
        output = stream(
            rolled_out.core.connect_get_namespaced_pod_exec,
            pods[0].metadata.name,
            rolled_out.namespace,
            command=command,
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
        )
        assert "now has the roles" in output, output

    return new_staff(http, "cluster-staff", grant_admin)
