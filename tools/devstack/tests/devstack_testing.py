"""Helpers for supervisor tests: a fake service run through the real service table and commands, and
the real `python -m brigade_devstack up` on free ports."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import psutil

from brigade_common.devservers import port_in_use
from brigade_common.testing.waiting import eventually
from brigade_devstack.catalog import ServiceSpec, service_table
from brigade_devstack.console import Console
from brigade_devstack.layout import Layout
from brigade_devstack.process import Command
from brigade_devstack.stackconfig import StackConfig, resolve

SUPPORT = Path(__file__).parent / "support"
FAKE_MODULE = "devstack_fakesvc"
REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Fakes:
    """Everything a test needs to plan, run and inspect fake services."""

    tmp: Path
    environ: dict[str, str]
    state: Path
    layout: Layout

    def plan(self, specs: Sequence[ServiceSpec]) -> StackConfig:
        return resolve(self.layout, specs, self.environ)

    def commands(self, config: StackConfig, modes: Mapping[str, str] | None = None) -> list[Command]:
        modes = modes or {}
        out = []
        for svc in config.services:
            command = config.command(svc, "api", self.environ)
            env = {**command.env, "FAKE_NAME": svc.name, "FAKE_MODE": modes.get(svc.name, "ok")}
            out.append(replace(command, env=env))
        return out

    def console(self, names: Sequence[str]) -> tuple[Console, io.StringIO]:
        out = io.StringIO()
        return Console(names, self.layout.logs, stream=out), out

    def lines(self, name: str, kind: str) -> list[str]:
        path = self.state / f"{name}.{kind}"
        return path.read_text().splitlines() if path.exists() else []


def fake_spec(name: str, port: int, **kwargs: bool) -> ServiceSpec:
    return ServiceSpec(name, FAKE_MODULE, port, **kwargs)


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def zombies(parent: int) -> list[int]:
    """Children of `parent` that exited and were never reaped."""
    try:
        children = psutil.Process(parent).children()
    except psutil.NoSuchProcess:
        return []
    out = []
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            if child.status() == psutil.STATUS_ZOMBIE:
                out.append(child.pid)
    return out


@dataclass
class RunningUp:
    """A real `up` in a subprocess: its output so far, its ports, and the processes it has recorded."""

    proc: asyncio.subprocess.Process
    home: Path
    ports: dict[str, int]
    output: list[str] = field(default_factory=list)
    seen: dict[str, set[int]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(self.output)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.ports['nats']}"

    def pids(self) -> dict[str, int]:
        """name → pid of what the registry records as running now (remembered in `seen`)."""
        try:
            state = json.loads((self.home / "run" / "processes.json").read_text())
        except (OSError, ValueError):
            return {}
        running = {entry["name"]: entry["pid"] for entry in state["processes"]}
        for name, pid in running.items():
            self.seen.setdefault(name, set()).add(pid)
        return running


def _ephemeral_low() -> int:
    """The first port the kernel hands out to outgoing connections (their local ports)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int, taken: set[int] | None = None) -> int:
    """The first of `count` consecutive ports that were free a moment ago and are not in `taken`
    (which gets them: two picks of one run never share a port).

    They are below the kernel's range for outgoing connections' local ports: a port of that range,
    free when picked, can be any connection's by the time the stack binds it (the suite opens many, on
    two workers; a nats-server's cluster routes, three ports in a row, met one). The other tests pick
    their ports in that range (`free_port`), so they do not meet these either."""
    taken = set() if taken is None else taken
    high = _ephemeral_low() - count
    while True:
        first = random.randrange(10_000, high)
        wanted = range(first, first + count)
        if taken.isdisjoint(wanted) and all(not port_in_use(p) and _bindable(p) for p in wanted):
            taken.update(wanted)
            return first


@contextlib.asynccontextmanager
async def running_up(tmp_path: Path, nats_nodes: int = 1) -> AsyncIterator[RunningUp]:
    """`python -m brigade_devstack up` on free ports, ready; stopped with SIGINT on the way out."""
    taken: set[int] = set()
    ports = {spec.name: free_ports(1, taken) for spec in service_table()}
    ports.update(postgres=free_ports(1, taken), nats=free_ports(nats_nodes, taken), mail=free_ports(1, taken))
    home = tmp_path / "home"
    env = {
        **os.environ,
        "BRIGADE_HOME": str(home),
        "BRIGADE_PG_PORT": str(ports["postgres"]),
        "BRIGADE_NATS_PORT": str(ports["nats"]),
        "BRIGADE_MAIL_PORT": str(ports["mail"]),
        "BRIGADE_NATS_NODES": str(nats_nodes),
        "BRIGADE_NATS_ROUTE_PORT": str(free_ports(nats_nodes, taken)),
        "NO_COLOR": "1",
    }
    env.pop("NATS_URL", None)
    env.update({spec.port_env: str(ports[spec.name]) for spec in service_table()})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "brigade_devstack",
        "up",
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    up = RunningUp(proc, home, ports)

    async def drain() -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            up.output.append(line.decode(errors="replace"))

    reader = asyncio.create_task(drain())
    try:
        await eventually(
            lambda: "Brigade is ready" in up.text or proc.returncode is not None, timeout=150, what="Brigade is ready"
        )
        assert proc.returncode is None, up.text
        up.pids()
        yield up
    finally:
        if proc.returncode is None:
            up.pids()
            proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), 60)
        await reader
