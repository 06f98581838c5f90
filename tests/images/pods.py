"""Runs the pods of a rendered chart on a local container engine, the way the kubelet would run them.

Each container gets what its pod spec says: command and args, environment (values, Secret references
resolved from a local secret store), user and group, read-only root filesystem, dropped capabilities,
no privilege escalation, CPU and memory limits, and its volumes (emptyDir and Secret volumes become
host folders shared by the pod's containers). Init containers run to completion first. Probes are
polled over HTTP. Everything runs on the host network, so each container port is moved to a free host
port through the `*_PORT` variable the chart sets to it; in-cluster addresses (NATS, PostgreSQL) are
rewritten to the test's servers. What the translation does not know, it refuses loudly.
"""

from __future__ import annotations

import io
import itertools
import re
import shutil
import subprocess
import tarfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from brigade_common.devservers import free_port
from brigade_common.testing.waiting import wait_until
from tests.images.engine import Engine

Obj = dict[str, Any]
POD_SECURITY_KEYS = ("runAsUser", "runAsGroup", "runAsNonRoot")
MEMORY_UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "K": 1000, "M": 1000**2, "G": 1000**3}


def memory_bytes(quantity: str) -> int:
    match = re.fullmatch(r"(\d+)([KMG]i?)?", quantity)
    assert match, f"memory quantity {quantity!r} not understood"
    return int(match.group(1)) * MEMORY_UNITS.get(match.group(2) or "", 1)


def cpus(quantity: str) -> str:
    return str(int(quantity[:-1]) / 1000) if quantity.endswith("m") else quantity


@dataclass
class Pod:
    """A started pod: its containers (engine names) and where each named container port landed."""

    name: str
    labels: dict[str, str]
    containers: list[str]
    ports: dict[str | int, int]  # container port name and number → host port
    spec: Obj

    def url(self, port: str | int = "http") -> str:
        return f"http://127.0.0.1:{self.ports[port]}"


@dataclass
class PodRunner:
    engine: Engine
    images: dict[str, str]  # image repository (as the chart names it) → local reference
    secrets: dict[str, dict[str, str]]  # Secret name → key → value
    # In-cluster (host, port) → local (host, port): applied to "host:port" in variables and arguments,
    # and to a host argument followed by its port argument.
    addresses: dict[tuple[str, int], tuple[str, int]]
    workdir: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    # ------------------------------------------------------------------------------ translation

    def _image(self, ref: str) -> str:
        repository = ref.rsplit("/", 1)[-1].split(":", 1)[0]
        assert repository in self.images, f"the chart runs image {ref!r}, which no artifact builds"
        return self.images[repository]

    def _secret(self, name: str, key: str) -> str:
        assert name in self.secrets and key in self.secrets[name], f"Secret {name}/{key} does not exist"
        return self.secrets[name][key]

    def _volumes(self, pod_name: str, spec: Obj) -> dict[str, Path]:
        folders = {}
        for volume in spec.get("volumes", []):
            folder = self.workdir / f"{pod_name}-{volume['name']}"
            folder.mkdir(parents=True)
            if "emptyDir" in volume:
                folder.chmod(0o777)  # as the kubelet makes an emptyDir
            elif "secret" in volume:
                source = volume["secret"]
                items = source.get("items") or [{"key": k, "path": k} for k in self.secrets[source["secretName"]]]
                for item in items:
                    (folder / item["path"]).write_text(self._secret(source["secretName"], item["key"]))
                folder.chmod(0o755)
            else:
                raise AssertionError(f"volume {volume['name']}: only emptyDir and secret volumes are translated")
            folders[volume["name"]] = folder
        return folders

    def _env(self, container: Obj, pod_meta: Obj) -> dict[str, str]:
        assert not container.get("envFrom"), f"{container['name']}: envFrom is not translated"
        env = {}
        for var in container.get("env", []):
            if "value" in var:
                value = str(var["value"])
            elif "secretKeyRef" in var.get("valueFrom", {}):
                ref = var["valueFrom"]["secretKeyRef"]
                value = self._secret(ref["name"], ref["key"])
            elif "fieldRef" in var.get("valueFrom", {}):
                path = var["valueFrom"]["fieldRef"]["fieldPath"]
                value = {"metadata.name": pod_meta["name"], "metadata.namespace": "brigade"}[path]
            else:
                raise AssertionError(f"{container['name']}: variable {var['name']} has a source not translated")
            env[var["name"]] = self._localize(value)
        return env

    def _localize(self, value: str) -> str:
        for (host, port), (local_host, local_port) in self.addresses.items():
            value = value.replace(f"{host}:{port}", f"{local_host}:{local_port}")
            if port == 80:  # http://host/… names port 80 without saying so
                value = re.sub(rf"(?<=http://){re.escape(host)}(?=[/?]|$)", f"{local_host}:{local_port}", value)
        return value

    def _localize_argv(self, argv: list[str]) -> list[str]:
        out = [self._localize(str(arg)) for arg in argv]
        for i in range(len(out) - 1):
            for (host, port), (local_host, local_port) in self.addresses.items():
                if out[i] == host and out[i + 1] == str(port):
                    out[i], out[i + 1] = local_host, str(local_port)
        return out

    def _move_ports(self, container: Obj, env: dict[str, str]) -> dict[str | int, int]:
        """A free host port for each container port, set where the chart sets the port: a `*_PORT`
        variable or a `--…port` argument (applied by _run_args)."""
        argv = [str(a) for a in [*container.get("command", []), *container.get("args", [])]]
        ports: dict[str | int, int] = {}
        for port in container.get("ports", []):
            number = port["containerPort"]
            host = free_port()
            moved = [name for name, value in env.items() if name.endswith("_PORT") and value == str(number)]
            for name in moved:
                env[name] = str(host)
            in_argv = any(a == str(number) and "port" in b for b, a in itertools.pairwise(argv))
            assert moved or in_argv, f"{container['name']}: nothing sets port {number}; it cannot be moved"
            ports[number] = host
            if "name" in port:
                ports[port["name"]] = host
        return ports

    def _run_args(
        self,
        pod_name: str,
        pod_spec: Obj,
        container: Obj,
        env: dict[str, str],
        folders: dict[str, Path],
        ports: dict[str | int, int] | None = None,
    ) -> list[str]:
        security = {k: v for k, v in pod_spec.get("securityContext", {}).items() if k in POD_SECURITY_KEYS}
        security |= container.get("securityContext", {})
        name = f"brigade-{self.run_id}-{pod_name}-{container['name']}"
        args = ["--name", name, "--label", f"brigade-images-test={self.run_id}", "--network=host"]
        if "runAsUser" in security:
            args += ["--user", f"{security['runAsUser']}:{security.get('runAsGroup', security['runAsUser'])}"]
        if security.get("readOnlyRootFilesystem"):
            args += ["--read-only"]
            if self.engine.is_podman:
                args += ["--read-only-tmpfs=false"]  # podman adds writable /tmp, /run, /var/tmp otherwise
        capabilities = security.get("capabilities", {})
        args += [f"--cap-drop={cap}" for cap in capabilities.get("drop", [])]
        args += [f"--cap-add={cap}" for cap in capabilities.get("add", [])]
        if security.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt=no-new-privileges"]
        limits = container.get("resources", {}).get("limits", {})
        if "memory" in limits:
            args += [f"--memory={memory_bytes(limits['memory'])}"]
        if "cpu" in limits:
            args += [f"--cpus={cpus(str(limits['cpu']))}"]
        for mount in container.get("volumeMounts", []):
            suffix = ":ro" if mount.get("readOnly") else ""
            args += ["-v", f"{folders[mount['name']]}:{mount['mountPath']}{suffix}"]
        if "workingDir" in container:
            args += ["-w", container["workingDir"]]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        argv = self._localize_argv([*container.get("command", []), *container.get("args", [])])
        for i in range(1, len(argv)):
            if "port" in argv[i - 1] and argv[i].isdigit() and int(argv[i]) in (ports or {}):
                argv[i] = str((ports or {})[int(argv[i])])
        if container.get("command"):
            args += ["--entrypoint", argv[0]]
            argv = argv[1:]
        return [*args, self._image(container["image"]), *argv]

    # ---------------------------------------------------------------------------------- running

    def _run_once(self, owner: str, pod_name: str, spec: Obj, container: Obj, folders: dict[str, Path]) -> None:
        """Runs a container in the foreground to a zero exit (an init container, a Job's container)."""
        env = self._env(container, {"name": pod_name})
        args = self._run_args(pod_name, spec, container, env, folders)
        result = self.engine.run("run", "--rm", *args, check=False)
        assert result.returncode == 0, (
            f"{owner}/{container['name']} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )

    def run_to_completion(self, owner: str, template: Obj) -> None:
        """Runs a Job's pod: its init containers, then its containers, each to a zero exit."""
        pod_name = f"{owner}-{uuid.uuid4().hex[:5]}"
        spec = template["spec"]
        folders = self._volumes(pod_name, spec)
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            self._run_once(owner, pod_name, spec, container, folders)

    def start(self, owner: str, template: Obj) -> Pod:
        """Starts a Deployment's pod: init containers to completion, then its containers detached."""
        pod_name = f"{owner}-{uuid.uuid4().hex[:5]}"
        spec = template["spec"]
        folders = self._volumes(pod_name, spec)
        for container in spec.get("initContainers", []):
            self._run_once(owner, pod_name, spec, container, folders)
        names, ports = [], {}
        for container in spec["containers"]:
            env = self._env(container, {"name": pod_name})
            moved = self._move_ports(container, env)
            ports |= moved
            args = self._run_args(pod_name, spec, container, env, folders, moved)
            self.engine.run("run", "-d", *args)
            names.append(args[1])
        return Pod(pod_name, template.get("metadata", {}).get("labels", {}), names, ports, spec)

    def wait_started(self, pod: Pod) -> None:
        """Polls each container's startup probe (else its readiness probe) as the kubelet would."""
        for index, container in enumerate(pod.spec["containers"]):
            probe = container.get("startupProbe") or container.get("readinessProbe")
            assert probe and "httpGet" in probe, f"{pod.name}/{container['name']}: no HTTP startup probe"
            get = probe["httpGet"]
            url = f"http://127.0.0.1:{pod.ports[get['port']]}{get['path']}"
            budget = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)

            def answered(url: str = url, index: int = index) -> bool:
                state = self.engine.run("inspect", "--format", "{{.State.Status}}", pod.containers[index])
                if state.stdout.strip() not in ("running", "created"):
                    raise AssertionError(f"{pod.name} stopped ({state.stdout.strip()}):\n{self.logs(pod)}")
                try:
                    return httpx.get(url, timeout=2).status_code == 200
                except httpx.TransportError:
                    return False

            try:
                wait_until(answered, budget, f"startup probe {url} of {pod.name}", 0.25)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{self.logs(pod)}") from None

    def logs(self, pod: Pod) -> str:
        out = []
        for name in pod.containers:
            result = self.engine.run("logs", "--tail", "60", name, check=False)
            out.append(f"--- {name}\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
        return "\n".join(out)

    def kill(self, pod: Pod) -> None:
        """Deletes the pod with no grace period: SIGKILL, containers gone."""
        self.engine.run("rm", "-f", *pod.containers)

    def copy_into(self, pod: Pod, destination: str, files: dict[str, str]) -> None:
        """What `skaffold dev` file sync does: a tar stream unpacked by `tar` inside the container."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for path, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(path)
                info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
                archive.addfile(info, io.BytesIO(data))
        command = [self.engine.command, "exec", "-i", pod.containers[0], "tar", "xmf", "-", "-C", destination]
        result = subprocess.run(command, input=buffer.getvalue(), capture_output=True, check=False, timeout=60)
        assert result.returncode == 0, f"sync into {pod.name}: {result.stderr.decode(errors='replace')}"

    def cleanup(self) -> None:
        """Removes every container of this run, the interrupted foreground ones included."""
        listed = self.engine.run("ps", "-aq", "--filter", f"label=brigade-images-test={self.run_id}", check=False)
        if listed.stdout.split():
            self.engine.run("rm", "-f", *listed.stdout.split(), check=False)
        shutil.rmtree(self.workdir, ignore_errors=True)
