"""PostgreSQL and nats-server as supervised children: devservers starts them, the supervisor keeps them.

Every restart builds the server afresh on the same port and data folder, so the database and the
JetStream store survive a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import Callable
from typing import Protocol

from brigade_common.devservers import DevServerError, NatsCluster, NatsServer, PostgresServer
from brigade_devstack.console import Console
from brigade_devstack.errors import LaunchError
from brigade_devstack.layout import Layout
from brigade_devstack.pgdata import release


class DevServer(Protocol):
    proc: subprocess.Popen[bytes] | None

    def start(self) -> object: ...


def _nothing() -> None:
    pass


class ServerChild:
    """One run of a development server. `start` returns once it serves; `wait` reaps it."""

    group: bool = False  # the server looks after its own children
    announces_ready: bool = True

    def __init__(
        self,
        server: DevServer,
        *,
        stop_signal: int,
        before_start: Callable[[], object] = _nothing,
        after_exit: Callable[[], object] = _nothing,
    ) -> None:
        self.server = server
        self.stop_signal = stop_signal
        self._before_start = before_start
        self._after_exit = after_exit

    @property
    def pid(self) -> int | None:
        proc = self.server.proc
        return proc.pid if proc is not None and proc.returncode is None else None

    async def start(self) -> int:
        # devservers blocks until the server is ready: a thread, which `send` can still interrupt.
        await asyncio.to_thread(self._start)
        proc = self.server.proc
        if proc is None:
            raise LaunchError("the server did not start")
        return proc.pid

    def _start(self) -> None:
        self._before_start()
        try:
            self.server.start()
        except (DevServerError, OSError, subprocess.SubprocessError) as exc:  # initdb runs a subprocess too
            proc = self.server.proc
            if proc is not None:
                # It may be alive but never ready: kill it, and reap it either way.
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
            raise LaunchError(str(exc) or repr(exc)) from None

    async def wait(self) -> int:
        proc = self.server.proc
        if proc is None:
            raise RuntimeError("wait() before start()")
        code = await asyncio.to_thread(proc.wait)  # reaps it: no zombie
        with contextlib.suppress(LaunchError):  # the next start checks again, and says why it cannot
            await asyncio.to_thread(self._after_exit)
        return code

    def send(self, sig: int) -> None:
        proc = self.server.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)


def postgres(layout: Layout, port: int, console: Console) -> Callable[[], ServerChild]:
    """PostgreSQL on `port` over `layout.pg_data`; SIGINT is its fast shutdown (checkpoint, exit)."""

    def freed() -> None:
        killed = release(layout.pg_data)
        if killed:
            pids = ", ".join(map(str, killed))
            console.warn(f"killed what a dead postmaster left using {layout.pg_data} (pids {pids})", about="postgres")

    def make() -> ServerChild:
        server = PostgresServer(layout.pg_data, port, log_file=layout.log_file("postgres"))
        # Released before a start (devservers then deletes a stale postmaster.pid) and after an
        # exit, so that a SIGKILLed postmaster's backends do not outlive the stack.
        return ServerChild(server, stop_signal=signal.SIGINT, before_start=freed, after_exit=freed)

    return make


def nats(layout: Layout, port: int) -> Callable[[], ServerChild]:
    """nats-server with JetStream on `port`, storing in `layout.nats_store` (kept across restarts)."""

    def make() -> ServerChild:
        return ServerChild(
            NatsServer(layout.nats_store, port, log_file=layout.log_file("nats")), stop_signal=signal.SIGTERM
        )

    return make


def nats_cluster(
    layout: Layout, client_ports: tuple[int, ...], route_ports: tuple[int, ...]
) -> dict[str, Callable[[], ServerChild]]:
    """A NATS cluster's servers by name, each on its own ports and store: one restarted after a crash
    rejoins the others with what it had."""
    cluster = NatsCluster(layout.nats_cluster, len(client_ports), client_ports=client_ports, route_ports=route_ports)

    def maker(server: NatsServer) -> Callable[[], ServerChild]:
        def make() -> ServerChild:
            fresh = NatsServer(server.store_dir, server.port, log_file=server.log_file, cluster=server.cluster)
            return ServerChild(fresh, stop_signal=signal.SIGTERM)

        return make

    return {s.cluster.name if s.cluster else str(s.port): maker(s) for s in cluster.servers}
