"""One running stack: PostgreSQL and NATS, then migrations and seeds, then every service, until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from brigade_common.jetstream import wait_for_jetstream
from brigade_devstack import mailcatcher, servers
from brigade_devstack.backoff import CrashLoopBackOff
from brigade_devstack.banner import ready_banner
from brigade_devstack.console import Console
from brigade_devstack.demo_users import load_users, seed_setting
from brigade_devstack.errors import DevstackError, LaunchError
from brigade_devstack.infra import ensure_database
from brigade_devstack.process import run_once
from brigade_devstack.readiness import wait_ready
from brigade_devstack.registry import Registry
from brigade_devstack.stackconfig import DATABASE, PlannedService, StackConfig
from brigade_devstack.supervised import describe_exit
from brigade_devstack.supervisor import Supervisor

T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Ctrl-C under `make`/`uv run` arrives twice at once (from the terminal and forwarded by uv): one stop.
REPEAT_WINDOW_S = 0.5


@dataclass(frozen=True)
class UpOptions:
    ready_timeout: float = 90.0
    grace: float = 10.0
    backoff: Callable[[], CrashLoopBackOff] = CrashLoopBackOff


class StopRequestedError(Exception):
    """A stop was requested while the stack was still starting."""


class Stack:
    """One running stack; `run` returns when it has been stopped and everything it started is gone."""

    def __init__(
        self,
        config: StackConfig,
        console: Console,
        registry: Registry,
        options: UpOptions,
        environ: Mapping[str, str],
    ) -> None:
        self.config = config
        self.console = console
        self.registry = registry
        self.options = options
        self.environ = environ
        self._stop = asyncio.Event()
        self._first_signal_at: float | None = None
        self._supervisor: Supervisor | None = None

    def request_stop(self, sig: signal.Signals) -> None:
        now = asyncio.get_running_loop().time()
        if self._first_signal_at is None:
            self._first_signal_at = now
            self.console.info(f"{sig.name}: stopping Brigade (once more to kill at once)")
            self._stop.set()
        elif now - self._first_signal_at > REPEAT_WINDOW_S and self._supervisor is not None:
            self.console.warn(f"{sig.name}: killing the services now")
            self._supervisor.kill()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.request_stop, sig)
        try:
            async with contextlib.AsyncExitStack() as exits:
                await self._start(exits)
                await self._stop.wait()
        except StopRequestedError:
            pass
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
        self.console.info("Brigade stopped")
        return 0

    async def _until_stopped(self, work: Awaitable[T]) -> T:
        """Await `work`, abandoning (cancelling) it if a stop is requested first."""
        task = asyncio.ensure_future(work)
        stop = asyncio.create_task(self._stop.wait())
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise StopRequestedError
        return task.result()

    async def _start(self, exits: contextlib.AsyncExitStack) -> None:
        config, console, layout = self.config, self.console, self.config.layout
        self.registry.start_reaper()
        exits.callback(self.registry.close)

        # The infrastructure is supervised like the services, and stopped after them.
        infra = self._new_supervisor()
        needed = [
            infra.supervise("postgres", servers.postgres(layout, config.pg_port, console), fatal_first_start=True)
        ]
        if config.external_nats_url is not None:
            nats_text = f"NATS at {config.nats_url}"
        elif config.nats_nodes == 1:
            needed.append(infra.supervise("nats", servers.nats(layout, config.nats_port), fatal_first_start=True))
            nats_text = f"nats-server on port {config.nats_port}"
        else:
            nodes = servers.nats_cluster(layout, config.nats_client_ports, config.nats_route_ports)
            needed += [infra.supervise(name, make, fatal_first_start=True) for name, make in nodes.items()]
            ports = ", ".join(map(str, config.nats_client_ports))
            nats_text = f"a cluster of {config.nats_nodes} nats-servers on ports {ports}"
        exits.push_async_callback(self._stop_supervisor, infra, ", ".join(infra.services))
        needed.append(infra.supervise("mail", mailcatcher.supervised(layout, config.mail_port), fatal_first_start=True))
        console.info(f"starting PostgreSQL on port {config.pg_port}, {nats_text} (logs in {layout.logs})")
        results = await self._until_stopped(asyncio.gather(*(s.started() for s in needed), return_exceptions=True))
        for result in results:
            if isinstance(result, LaunchError):
                raise DevstackError(f"{result} (see {layout.logs})")
            if isinstance(result, BaseException):
                raise result
        if config.external_nats_url is None and config.nats_nodes > 1:
            # Streams of three replicas need the cluster's JetStream leader: wait for it.
            await self._until_stopped(wait_for_jetstream(config.nats_url, timeout=60))
        if await self._until_stopped(ensure_database(config.admin_database_url, DATABASE)):
            console.info(f"created database {DATABASE}")
        users = seed_setting(load_users(layout))

        supervisor = self._supervisor = self._new_supervisor()
        exits.push_async_callback(self._stop_supervisor, supervisor, "services")
        announcer = asyncio.create_task(self._announce(supervisor))
        exits.callback(announcer.cancel)
        # Services without a schema start at once; the others right after their migrations and seed.
        for svc in config.services:
            if not svc.spec.has_database:
                supervisor.launch_all(config.api_commands(svc, self.environ, users))
        await self._until_stopped(self._prepare_all(supervisor, users))

    def _new_supervisor(self) -> Supervisor:
        return Supervisor(self.console, watcher=self.registry, backoff=self.options.backoff, grace=self.options.grace)

    async def _stop_supervisor(self, supervisor: Supervisor, what: str) -> None:
        self.console.info(f"stopping {what}")
        await supervisor.stop()

    async def _prepare_all(self, supervisor: Supervisor, users: str) -> None:
        services = [s for s in self.config.services if s.spec.has_database]
        try:
            async with asyncio.TaskGroup() as group:
                for svc in services:
                    group.create_task(self._prepare_and_launch(svc, supervisor, users))
        except BaseExceptionGroup as failures:
            first = failures.exceptions[0]
            raise first if isinstance(first, Exception) else failures from None

    async def _prepare_and_launch(self, svc: PlannedService, supervisor: Supervisor, users: str) -> None:
        for verb in ("migrate", "seed") if svc.spec.has_seed else ("migrate",):
            self.console.info(f"{svc.name}: {verb}", about=svc.name)
            code = await run_once(self.config.command(svc, verb, self.environ, users), self.console)
            if code != 0:
                raise DevstackError(
                    f"`python -m {svc.spec.module} {verb}` failed with {describe_exit(code)}; "
                    f"see {self.config.layout.log_file(svc.name)}"
                )
        # Once per service, then every replica: they share the schema the migrations made.
        supervisor.launch_all(self.config.api_commands(svc, self.environ, users))

    async def _announce(self, supervisor: Supervisor) -> None:
        # Each process on its own port: a replica is ready when it answers, not when any of them does.
        urls = {i.name: s.ready_url(i) for s in self.config.services for i in s.instances}

        def describe(name: str) -> str:
            service = supervisor.services.get(name)
            restarts = service.restarts if service else 0
            return f"{name} (restarted {restarts}x)" if restarts else name

        pending = await wait_ready(urls, self.console, timeout=self.options.ready_timeout, describe=describe)
        if pending:
            names = ", ".join(sorted(pending))
            self.console.error(
                f"not ready after {self.options.ready_timeout:g}s: {names}. Still supervising; "
                f"see the output above or {self.config.layout.logs}"
            )
            await wait_ready(
                {n: urls[n] for n in pending}, self.console, timeout=math.inf, interval=1.0, report_every=math.inf
            )
        for text in ready_banner(self.config, self.console, load_users(self.config.layout)):
            self.console.info(text)
