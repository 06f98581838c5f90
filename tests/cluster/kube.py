"""What the cluster tests drive: the Kubernetes API of one namespace (rollouts, Jobs), the pinned helm
and kubectl-free helpers (namespaces, installs), and a release the tests change and roll back."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from brigade_common.testing.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = REPO / ".tools/bin"
CURRENT = os.environ.get("BRIGADE_KUBE") == "current"
AUTH_PODS = "app.kubernetes.io/name=brigade,app.kubernetes.io/component=auth"


@dataclass
class Kube:
    """The API groups the tests use, bound to one cluster, and the namespace Brigade runs in."""

    api: Any
    namespace: str
    # False on the local control plane: no CloudNativePG operator there, so no Cluster gets ready.
    operators: bool = True
    core: Any = field(init=False)
    apps: Any = field(init=False)
    batch: Any = field(init=False)
    autoscaling: Any = field(init=False)
    custom: Any = field(init=False)

    def __post_init__(self) -> None:
        from kubernetes import client

        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.batch = client.BatchV1Api(self.api)
        self.autoscaling = client.AutoscalingV2Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)

    def in_namespace(self, namespace: str) -> Kube:
        return Kube(self.api, namespace, self.operators)


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
    if kube.operators:
        clusters = kube.custom.list_namespaced_custom_object("postgresql.cnpg.io", "v1", kube.namespace, "clusters")
        for c in clusters["items"]:
            if c.get("status", {}).get("readyInstances", 0) < c["spec"]["instances"]:
                pending.append(f"cluster/{c['metadata']['name']}")
    if not kube.apps.list_namespaced_deployment(kube.namespace).items:
        pending.append("no Deployment in the namespace yet")
    return ", ".join(pending) or None


def await_rollout(kube: Kube) -> Kube:
    default = "600" if CURRENT else "120"
    timeout = float(os.environ.get("BRIGADE_ROLLOUT_TIMEOUT_S", default))
    try:
        wait_until(lambda: rollout_pending(kube) is None, timeout, f"rollout in namespace {kube.namespace}", 0.2)
    except AssertionError as exc:
        pytest.fail(f"{exc}; still pending: {rollout_pending(kube)}", pytrace=False)
    return kube


# ------------------------------------------------------------------------ the local control plane


@dataclass
class Tools:
    """helm and kubectl bound to the local control plane's kubeconfig."""

    kubeconfig: Path
    helm_bin: str

    def run(self, *args: str, check: bool = True, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        started = time.monotonic()
        result = subprocess.run(
            list(args), capture_output=True, text=True, check=False, cwd=REPO, env=env, timeout=timeout
        )
        if os.environ.get("BRIGADE_K8S_KEEP"):
            print(f"{time.monotonic() - started:6.2f}s {' '.join(Path(a).name for a in args[:3])}")
        if check and result.returncode != 0:
            pytest.fail(f"{' '.join(args[:4])} ... failed ({result.returncode}):\n{result.stderr}", pytrace=False)
        return result

    def helm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(self.helm_bin, *args, check=check)

    def kubectl(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        if stdin is None:
            return self.run(str(BIN_DIR / "kubectl"), *args, check=check)
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        result = subprocess.run(
            [str(BIN_DIR / "kubectl"), *args], input=stdin, capture_output=True, text=True, check=False, env=env
        )
        if check and result.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args[:3])} failed:\n{result.stderr}", pytrace=False)
        return result

    def namespace(self, name: str) -> None:
        """The namespace as infra/k8s/namespace.yaml makes it (its Pod Security labels), by that name."""
        doc = yaml.safe_load((REPO / "infra/k8s/namespace.yaml").read_text())
        doc["metadata"]["name"] = name
        self.kubectl("apply", "-f", "-", stdin=json.dumps(doc))


@dataclass
class JobWatch:
    """A watch on the Jobs of one namespace while something runs: every event, in the order the API
    server stored them. It lists first and watches from that version, so nothing created after
    `__enter__` returns is missed, however short-lived (hook Jobs are deleted once they succeed)."""

    batch: Any
    namespace: str
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> JobWatch:
        version = self.batch.list_namespaced_job(self.namespace).metadata.resource_version
        self._thread = threading.Thread(target=self._run, args=(version,), daemon=True)
        self._thread.start()
        return self

    def _run(self, version: str) -> None:
        from kubernetes import watch

        while not self._stop.is_set():
            # Short server-side timeouts, resumed from the last version seen: stopping takes a second.
            for event in watch.Watch().stream(
                self.batch.list_namespaced_job, self.namespace, resource_version=version, timeout_seconds=1
            ):
                obj = event["raw_object"]
                version = obj["metadata"]["resourceVersion"]
                self.events.append((event["type"], obj))

    def __exit__(self, *exc: object) -> None:
        assert self._thread is not None
        self._stop.set()
        self._thread.join(15)

    def created(self) -> list[str]:
        return [obj["metadata"]["name"] for kind, obj in self.events if kind == "ADDED"]


def job_complete(job: dict[str, Any]) -> bool:
    conditions = job.get("status", {}).get("conditions") or []
    return any(c["type"] == "Complete" and c["status"] == "True" for c in conditions)


@dataclass
class Release:
    """A Brigade installation on the local control plane: its namespace, and the Job events of the
    brigade chart's install (the hooks)."""

    kube: Kube
    tools: Tools
    values: list[str]
    postgres_values: list[str]
    install_jobs: JobWatch

    @property
    def namespace(self) -> str:
        return self.kube.namespace

    def helm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.tools.helm(*args, "--namespace", self.namespace, check=check)

    def manifest(self, release: str) -> list[dict[str, Any]]:
        out = self.helm("get", "manifest", release).stdout
        return [d for d in yaml.safe_load_all(out) if d]

    def hooks(self, release: str) -> list[dict[str, Any]]:
        out = self.helm("get", "hooks", release).stdout
        return [d for d in yaml.safe_load_all(out) if d]
