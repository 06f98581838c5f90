"""Runs Brigade's real service processes against the test's own PostgreSQL and nats-server."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import httpx
from prometheus_client.parser import text_string_to_metric_families

from brigade_common import commands
from brigade_common.auth.keys import generate_key, jwks
from brigade_common.auth.tokens import mint_token
from brigade_common.catalog import Catalog, load
from brigade_common.devservers import free_port
from brigade_common.testing.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
# How long a stopped service has to shut down gracefully before it is killed.
STOP_S = 15.0
# How long a started process has to answer its /readyz: a ceiling, reached only when something is wrong.
# A quiet machine starts the whole stack in 5 s; a CI run with both workers starting stacks on 2 busy
# cores once took more than 30 s for every process.
READY_S = 60.0


@functools.cache
def installed() -> Catalog:
    """Every installed service (brigade_common.catalog): what the stack can run."""
    return load()


@dataclass
class ServiceProcess:
    name: str  # the service's, or `kitchen-2` for a replica
    env: dict[str, str]
    port: int  # the service's port (replicas share it)
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    module: str = ""  # default: the catalog's
    service: str = ""  # default: `name`
    own_port: int = 0  # a replica's port of its own (its /readyz, /metrics)

    def __post_init__(self) -> None:
        self.service = self.service or self.name
        self.module = self.module or installed().get(self.service).module

    @property
    def url(self) -> str:
        """The service's URL: any of its replicas may answer."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def own_url(self) -> str:
        """This process's URL, whichever replica it is."""
        return f"http://127.0.0.1:{self.own_port or self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    async def metric(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples matching `labels` on this process's own /metrics."""
        async with httpx.AsyncClient(timeout=5.0) as client:
            r = await client.get(f"{self.own_url}/metrics")
        r.raise_for_status()
        return sum(
            sample.value
            for family in text_string_to_metric_families(r.text)
            for sample in family.samples
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
        )

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "api"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )

    async def wait_ready(self, timeout: float = READY_S) -> None:
        """Until its /readyz answers 200; failing, the error says what it answered last and how its log ends."""
        last = "no answer yet"
        async with httpx.AsyncClient(timeout=2.0) as client:

            async def ready() -> bool:
                nonlocal last
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
                try:
                    r = await client.get(f"{self.own_url}/readyz")
                except httpx.TransportError as exc:
                    last = f"no answer: {type(exc).__name__}"
                    return False
                last = f"{r.status_code} {r.text[:500]}"
                return r.status_code == 200

            try:
                await eventually(ready, timeout, f"{self.name} ready")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; /readyz: {last}\n{self.log_tail()}") from None

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        if sig == signal.SIGKILL:
            self.proc.wait(10)

    def stop(self) -> None:
        if self.terminate():
            self.reap(time.monotonic() + STOP_S)

    def terminate(self) -> bool:
        """SIGTERM it (a graceful shutdown); False when it was not running."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        self.proc.terminate()
        return True

    def reap(self, deadline: float) -> None:
        """Wait for it to exit until `deadline` (monotonic), then kill it."""
        assert self.proc is not None
        try:
            self.proc.wait(max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Stack:
    database_url: str
    nats_url: str
    tmp: Path
    overrides: dict[str, str] = field(default_factory=dict)
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    catalog: Catalog = field(default_factory=installed)

    def __post_init__(self) -> None:
        self.private_pem, public = generate_key("test-key")
        self.jwks = jwks([public])

    def token(self, sub: str = "customer-demo", roles: tuple[str, ...] = ("customer",)) -> str:
        return mint_token(self.private_pem, "test-key", sub=sub, roles=list(roles))

    def auth(self, sub: str = "customer-demo", roles: tuple[str, ...] = ("customer",)) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, roles)}"}

    def staff(self) -> dict[str, str]:
        """`Authorization` headers of a staff member: the pantry and the warehouse are theirs to read."""
        return self.auth("staff-demo", ("staff",))

    def _env(self, name: str, port: int, instance: str = "", own_port: int = 0) -> dict[str, str]:
        """The environment of `name`'s process: this one's, without any service's settings, plus its own
        (a replica's: `instance` on `own_port` besides the shared `port`)."""
        service = self.catalog.get(name)
        p = service.env_prefix
        theirs = tuple(s.env_prefix for s in self.catalog)
        env = {k: v for k, v in os.environ.items() if not k.startswith(theirs)}
        env.update(
            {
                p + "NATS_URL": self.nats_url,
                p + "HTTP_PORT": str(port),
                p + "HTTP_HOST": "127.0.0.1",
                p + "JWT_PUBLIC_KEYS": self.jwks,
                p + "LOG_FORMAT": "console",
                p + "INSTANCE": instance or name,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if own_port:
            env.update({p + "HTTP_REUSE_PORT": "true", p + "HTTP_INSTANCE_PORT": str(own_port)})
        if service.has_database:
            env[p + "DATABASE_URL"] = self.database_url
        env.update({k: v for k, v in self.overrides.items() if k.startswith(p)})
        return env

    def replica_count(self, name: str) -> int:
        """How many processes `name` runs as: `<PREFIX>REPLICAS` of the overrides, as for `make up`."""
        return int(self.overrides.get(self.catalog.get(name).env_prefix + "REPLICAS", "1"))

    def replicas(self, name: str) -> list[ServiceProcess]:
        """The processes of service `name` (one, or its replicas in order)."""
        return [s for s in self.services.values() if s.service == name]

    def _create(self, name: str) -> list[ServiceProcess]:
        port, count = free_port(), self.replica_count(name)
        module = self.catalog.get(name).module
        if count == 1:
            processes = [ServiceProcess(name, self._env(name, port), port, self.tmp / f"{name}.log", module=module)]
        else:
            processes = []
            for i in range(1, count + 1):
                instance, own = f"{name}-{i}", free_port()
                env = self._env(name, port, instance, own)
                log = self.tmp / f"{instance}.log"
                processes.append(ServiceProcess(instance, env, port, log, module=module, service=name, own_port=own))
        self.services.update({s.name: s for s in processes})
        return processes

    async def prepare(self) -> None:
        """Migrate and seed every database service (what `make up` does before starting them)."""
        for service in self.catalog.with_database:
            # The settings its `seed` command would read, from the environment its process gets.
            with mock.patch.dict(os.environ, self._env(service.name, 0), clear=True):
                settings = service.settings()
            await asyncio.to_thread(commands.migrate, service, self.database_url)
            await commands.seed(service, settings, self.database_url)

    async def start(self, *names: str) -> None:
        """Start `names` (default: every service but the gateway), each as its `replica_count` processes,
        and wait until every process is ready."""
        names = names or tuple(s.name for s in self.catalog.backends)
        started: list[ServiceProcess] = []
        for name in names:
            processes = self.replicas(name) or self._create(name)
            for svc in processes:
                svc.start()
            started += processes
        await asyncio.gather(*(svc.wait_ready() for svc in started))

    def url(self, name: str) -> str:
        """The URL of service `name` (shared by its replicas), or of the process called `name`."""
        return f"http://127.0.0.1:{self.port(name)}"

    def port(self, name: str) -> int:
        return (self.services.get(name) or self.replicas(name)[0]).port

    def stop(self) -> None:
        """Every process told at once, then each waited for: a shutdown takes the slowest one's time,
        not the sum of them all."""
        stopping = [svc for svc in self.services.values() if svc.terminate()]
        deadline = time.monotonic() + STOP_S
        for svc in stopping:
            svc.reap(deadline)

    def logs(self) -> str:
        return "\n".join(f"----- {n}\n{s.log_tail()}" for n, s in self.services.items())


@contextlib.asynccontextmanager
async def running(stack: Stack, *names: str) -> AsyncIterator[Stack]:
    """`stack` migrated, seeded and started (default: every service but the gateway); stopped on exit."""
    await stack.prepare()
    try:
        await stack.start(*names)
        yield stack
    finally:
        stack.stop()


async def restart(stack: Stack, name: str, **env: str) -> None:
    """Start a stopped or killed process again (`kitchen`, or `kitchen-2` of replicas; optionally with
    changed settings) and wait until it is ready."""
    svc = stack.services[name]
    svc.env.update(env)
    svc.start()
    await svc.wait_ready()
