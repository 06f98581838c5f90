"""A real Kubernetes control plane on loopback for tests: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok, which plays the kubelet of fake nodes (pods become Running, Job pods
Succeeded, deleted pods go), so Deployments roll out, Jobs complete and Helm hooks finish, with no
container ever run and no image pulled.

The binaries come from scripts/install-control-plane.sh (pinned, built from source, linked into
.tools/bin). Certificates are made here with `cryptography`; every process listens on a free
loopback port, writes its log beside its data, and is stopped by its process id.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brigade_common.devservers import DevServerError, free_port, port_in_use, wait_started

BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok")
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
# What the fake node offers: room for every replica of the production values, several times over.
NODE_CAPACITY = {"cpu": "64", "memory": "256Gi", "pods": "250"}


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    """On Linux, the child gets SIGKILL when the process that started it dies (a killed test run
    leaves no API server behind)."""
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def missing_binaries(bin_dir: Path) -> list[str]:
    return [b for b in BINARIES if not os.access(bin_dir / b, os.X_OK)]


# ------------------------------------------------------------------------------------ certificates


def _write_certificates(pki: Path) -> None:
    """A CA, the API server's serving certificate (loopback and the in-cluster names), a client
    certificate in system:masters for every component and the tests, and the service-account keys."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    pki.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    until = now + datetime.timedelta(days=2)

    def name(cn: str, org: str | None = None) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    def pem_key(key: Any) -> bytes:
        return bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("brigade-test-ca")

    def builder(subject: x509.Name, public_key: Any, ca: bool) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )

    ca = (
        builder(ca_name, ca_key.public_key(), ca=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (pki / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def leaf(stem: str, subject: x509.Name, usage: Any, sans: list[x509.GeneralName] | None = None) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        cert_builder = builder(subject, key.public_key(), ca=False).add_extension(
            x509.ExtendedKeyUsage([usage]), critical=False
        )
        if sans:
            cert_builder = cert_builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = cert_builder.sign(ca_key, hashes.SHA256())
        (pki / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (pki / f"{stem}.key").write_bytes(pem_key(key))

    dns = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"]
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", "10.96.0.1")]
    leaf("apiserver", name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, sans)
    leaf("admin", name("brigade-admin", "system:masters"), ExtendedKeyUsageOID.CLIENT_AUTH)

    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (pki / "sa.key").write_bytes(pem_key(sa))
    (pki / "sa.pub").write_bytes(
        sa.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _kubeconfig(server: str, pki: Path) -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "brigade-test", "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")}}
        ],
        "users": [
            {
                "name": "admin",
                "user": {"client-certificate": str(pki / "admin.crt"), "client-key": str(pki / "admin.key")},
            }
        ],
        "contexts": [{"name": "brigade-test", "context": {"cluster": "brigade-test", "user": "admin"}}],
        "current-context": "brigade-test",
    }
    return json.dumps(config, indent=2)


# -------------------------------------------------------------------------------------- processes


@dataclass
class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok under `root`.

    `start()` returns once the API server is ready, the controllers run (the default service account
    exists) and kwok's node is Ready; `stop()` ends every process it started, by process id."""

    root: Path
    bin_dir: Path
    node_names: tuple[str, ...] = ("kwok-node-0",)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, init=False)
    api_port: int = field(default=0, init=False)

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        self.log(name).parent.mkdir(parents=True, exist_ok=True)
        with open(self.log(name), "ab") as out:
            proc = subprocess.Popen(
                [str(self.bin_dir / name), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.procs[name] = proc
        return proc

    def _tail(self, name: str, lines: int = 15) -> str:
        try:
            text = self.log(name).read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def start(self, timeout: float = 60.0) -> ControlPlane:
        missing = missing_binaries(self.bin_dir)
        if missing:
            raise DevServerError(
                f"{', '.join(missing)} not in {self.bin_dir}: run `make control-plane` "
                "(scripts/install-control-plane.sh builds the pinned versions once)"
            )
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self.root.mkdir(parents=True, exist_ok=True)
        _write_certificates(self.pki)
        pki = self.pki

        etcd_port, peer_port = free_port(), free_port()
        etcd = self._spawn(
            "etcd",
            "--name=default",
            f"--data-dir={self.root / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
            f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
            f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-cluster=default=http://127.0.0.1:{peer_port}",
            "--unsafe-no-fsync",
            "--log-level=warn",
        )
        wait_started(lambda: port_in_use(etcd_port), timeout, "etcd", etcd)

        self.api_port = free_port()
        self.kubeconfig.write_text(_kubeconfig(self.server, pki))
        apiserver = self._spawn(
            "kube-apiserver",
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.api_port}",
            f"--cert-dir={self.root / 'apiserver-certs'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=RBAC",
            # One API server on loopback: no Endpoints for the `kubernetes` Service to keep in step.
            "--endpoint-reconciler-type=none",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            "--v=1",
        )
        wait_started(self._api_ready, max(1.0, deadline - time.monotonic()), "kube-apiserver", apiserver)

        kubeconfig = str(self.kubeconfig)
        self._spawn(
            "kube-controller-manager",
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--secure-port=0",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            f"--cluster-cidr={POD_CIDR}",
            # The HPA controller looks often, so a test sees it correct a Deployment in seconds.
            "--horizontal-pod-autoscaler-sync-period=1s",
            # kwok's default heartbeat patches the node every 20-45 s and no lease: with the default
            # grace of 50 s the node-lifecycle controller would now and then mark the node NotReady
            # and its pods unready, which kwok never makes ready again (its pod stages are done).
            "--node-monitor-grace-period=10m",
            "--v=1",
        )
        self._spawn(
            "kube-scheduler",
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--secure-port=0",
            "--v=1",
        )
        self._spawn(
            "kwok",
            f"--kubeconfig={kubeconfig}",
            "--manage-all-nodes=true",
            f"--cidr={POD_CIDR}",
            "--node-ip=10.0.0.1",
        )
        for node in self.node_names:
            self._create_node(node)

        def running() -> bool:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise DevServerError(f"{name} exited with code {proc.returncode}:\n{self._tail(name)}")
            return self._controllers_ready()

        while not running():
            if time.monotonic() > deadline:
                raise DevServerError(
                    f"the control plane was not ready within {timeout:.0f}s (logs: {self.root / 'logs'})"
                )
            time.sleep(0.05)

    # ------------------------------------------------------------------------------- API access

    def _ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return ctx

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One call to the API server as the admin; the decoded JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)  # noqa: S310 (https only)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, context=self._ssl(), timeout=5) as resp:  # noqa: S310
            payload = resp.read()
        return json.loads(payload) if payload[:1] in (b"{", b"[") else payload.decode()

    def _api_ready(self) -> bool:
        try:
            return bool(self.request("GET", "/readyz") == "ok")
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return False

    def _create_node(self, name: str) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {
                    "type": "kwok",
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                },
                "annotations": {"kwok.x-k8s.io/node": "fake"},
            },
            "status": {"allocatable": NODE_CAPACITY, "capacity": NODE_CAPACITY},
        }
        self.request("POST", "/api/v1/nodes", node)

    def _controllers_ready(self) -> bool:
        """The service-account controller made `default`'s account, and kwok reports every node Ready."""
        try:
            self.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")
            nodes = self.request("GET", "/api/v1/nodes")["items"]
        except urllib.error.HTTPError:
            return False
        ready = [
            n
            for n in nodes
            if any(c["type"] == "Ready" and c["status"] == "True" for c in n.get("status", {}).get("conditions", []))
        ]
        return len(ready) == len(self.node_names)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every process by its id, the last started first (kwok ... etcd)."""
        for _name, proc in reversed(list(self.procs.items())):
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for _name, proc in reversed(list(self.procs.items())):
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()
