"""Tests against Kubernetes, in two modes.

`make test` (the default): a real control plane on loopback, built from source by
scripts/install-control-plane.sh and started once per session (brigade_common.testing.controlplane):
etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and kwok for the kubelet (pods run,
Job pods succeed, nothing is pulled or executed). The fixtures install the CloudNativePG CRDs and
then the Brigade and PostgreSQL charts for real with the pinned helm, and the tests drive what the
API server and the controllers do with them. The tests that need real pods (HTTP through the
Ingress, exec) are marked `kubelet`: they are deselected here, and the run's header says so.

`make test-cluster` (BRIGADE_KUBE=current): the same suite against the current kube context, Brigade
deployed by `skaffold dev -p kind` or `skaffold run`, the `kubelet` tests (the order journey)
included; with no reachable cluster the run stops with exit code 3 and says so. The chart install
tests still run on their own control plane: they install, break and roll back releases.

Environment: BRIGADE_KUBE (`current`, else the local control plane), BRIGADE_NAMESPACE (brigade),
BRIGADE_URL (http://kitchen.local), BRIGADE_KUBE_CONTEXT (the current one),
BRIGADE_ROLLOUT_TIMEOUT_S (600 on a real cluster, 120 on the local one).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from brigade_common.testing.controlplane import ControlPlane, missing_binaries
from tests.cluster.kube import AUTH_PODS, BIN_DIR, CURRENT, REPO, JobWatch, Kube, Release, Tools, await_rollout
from tests.journey import new_customer, new_staff
from tests.k8s.render import CHART, POSTGRES_CHART, VALUES_DIR, find_helm

CNPG_CRDS = REPO / ".tools/crds/cnpg"
HERE = Path(__file__).resolve().parent
GROUP = "control-plane"  # every test here on one xdist worker: one control plane per run
KIND_NAMESPACE = "brigade"
PROD_NAMESPACE = "brigade-prod"
INSTALL_TIMEOUT = "180s"


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


class LeftToTheClusterRun(pytest.PytestWarning):
    """Tests not run here because they need real pods: in the warnings summary, so it shows under
    xdist too (workers forward warnings to the controller, not their deselections)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    if not ours:
        return
    needs_kubelet = [item for item in ours if item.get_closest_marker("kubelet")]
    if CURRENT:
        reason = _unreachable_reason()
        if reason is not None:
            pytest.exit(f"no Kubernetes cluster reachable via current context: {reason}", returncode=3)
    elif needs_kubelet:
        config.hook.pytest_deselected(items=needs_kubelet)
        items[:] = [item for item in items if item not in needs_kubelet]
        names = ", ".join(sorted({item.name.split("[")[0] for item in needs_kubelet}))
        warnings.warn(
            LeftToTheClusterRun(
                f"tests/cluster: {len(needs_kubelet)} test(s) need real pods, left to `make test-cluster`: {names}"
            ),
            stacklevel=1,
        )
    for item in ours:
        item.add_marker(pytest.mark.xdist_group(GROUP))


def pytest_report_header(config: pytest.Config) -> str | None:
    if CURRENT:
        return "tests/cluster: against the current kube context (BRIGADE_KUBE=current)"
    return (
        "tests/cluster: on a local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok); "
        "the tests marked `kubelet` (real pods: the Ingress, exec) are deselected: `make test-cluster` runs them"
    )


@pytest.fixture(scope="session")
def control_plane(request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    missing = missing_binaries(BIN_DIR)
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing from {BIN_DIR}: run `make control-plane` (make test does it first)",
            pytrace=False,
        )
    root = Path(tempfile.mkdtemp(prefix="brigade-k8s-"))
    plane = ControlPlane(root, BIN_DIR)
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()
        shutil.rmtree(root / "etcd", ignore_errors=True)
        if request.session.testsfailed or os.environ.get("BRIGADE_K8S_KEEP"):
            # The processes' logs, for a failure to be read (kwok's says what it did to each pod).
            print(f"\ncontrol plane logs kept in {root / 'logs'}")
        else:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def tools(control_plane: ControlPlane) -> Tools:
    helm = find_helm()
    if helm is None:
        pytest.fail("helm not found: run `make helm`", pytrace=False)
    return Tools(control_plane.kubeconfig, helm)


@pytest.fixture(scope="session")
def local_api(control_plane: ControlPlane) -> Any:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(control_plane.kubeconfig))


@pytest.fixture(scope="session")
def cnpg_crds(tools: Tools) -> list[str]:
    """The CloudNativePG CRDs of the pinned operator, installed and Established; their names."""
    files = sorted(CNPG_CRDS.glob("*.yaml"))
    if not files:
        pytest.fail(f"no CRDs in {CNPG_CRDS}: run `make control-plane`", pytrace=False)
    tools.kubectl("apply", "--server-side", *(a for f in files for a in ("-f", str(f))))
    names = [yaml.safe_load(f.read_text())["metadata"]["name"] for f in files]
    tools.kubectl("wait", "--for=condition=Established", "--timeout=30s", *(f"crd/{n}" for n in names))
    return names


def api_warnings(helm_stderr: str) -> list[str]:
    """The API server's warnings in helm's output (an unknown field is one: the object is stored
    without it)."""
    # klog quotes them: ... warnings.go:107] "Warning: unknown field \"spec...\""
    found = re.findall(r'"Warning: (.*)"$', helm_stderr, flags=re.MULTILINE)
    return [w.replace('\\"', '"') for w in found]


def install(tools: Tools, api: Any, namespace: str, postgres_values: list[str], values: list[str]) -> Release:
    """brigade-postgres, then brigade (waiting for its Deployments), as skaffold.yaml orders them; an
    API server warning fails it."""
    tools.namespace(namespace)
    ns = ["--namespace", namespace]
    done = tools.helm("install", "brigade-postgres", str(POSTGRES_CHART), *ns, *postgres_values)
    assert not api_warnings(done.stderr), done.stderr
    with JobWatch(Kube(api, namespace).batch, namespace) as jobs:
        done = tools.helm("install", "brigade", str(CHART), *ns, *values, "--wait", "--timeout", INSTALL_TIMEOUT)
    assert not api_warnings(done.stderr), done.stderr
    return Release(Kube(api, namespace, operators=False), tools, values, postgres_values, jobs)


@pytest.fixture(scope="session")
def kind_release(tools: Tools, local_api: Any, cnpg_crds: list[str]) -> Release:
    """Brigade with the kind values (what `skaffold dev -p kind` deploys), namespace `brigade`."""
    return install(tools, local_api, KIND_NAMESPACE, [], ["-f", str(VALUES_DIR / "brigade-kind.yaml")])


@pytest.fixture(scope="session")
def prod_release(tools: Tools, local_api: Any, cnpg_crds: list[str]) -> Release:
    """Brigade with the production values (two replicas, HPAs), namespace `brigade-prod`."""
    return install(
        tools,
        local_api,
        PROD_NAMESPACE,
        ["-f", str(VALUES_DIR / "brigade-postgres-prod.yaml")],
        ["-f", str(VALUES_DIR / "brigade-prod.yaml")],
    )


# ------------------------------------------------------------------------------- either cluster


@pytest.fixture(scope="session")
def kube(request: pytest.FixtureRequest) -> Kube:
    """Brigade's namespace: on the current context (BRIGADE_KUBE=current), else the kind release on
    the local control plane."""
    if CURRENT:
        from kubernetes import client

        return Kube(client.ApiClient(), os.environ.get("BRIGADE_NAMESPACE", "brigade"))
    release: Release = request.getfixturevalue("kind_release")
    return release.kube


@pytest.fixture(scope="session")
def rolled_out(kube: Kube) -> Kube:
    return await_rollout(kube)


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
