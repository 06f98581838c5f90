"""Keeping one process alive: restart it with back-off whenever it exits, until told to stop.

The same loop serves the services (a command whose output is relayed) and the infrastructure
(PostgreSQL, nats-server, started by devservers): each kind is a `Child`, one run of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import Protocol

from brigade_devstack.backoff import CrashLoopBackOff
from brigade_devstack.console import Console
from brigade_devstack.errors import LaunchError


class Child(Protocol):
    """One run of a supervised process. A new one is made for every (re)start."""

    group: bool  # signals reach its whole process group, not just the process
    stop_signal: int
    announces_ready: bool  # `start` returns only once the process serves

    @property
    def pid(self) -> int | None:
        """The process's pid while it exists."""

    async def start(self) -> int:
        """Start the process and return its pid; raise `LaunchError` when it could not."""

    async def wait(self) -> int:
        """Wait for the process to exit, clear up what it left behind, return its exit code."""

    def send(self, sig: int) -> None:
        """Signal the process (its group when `group`), if it is running; safe before `start` returns."""


class ProcessWatcher(Protocol):
    """Told about every live child, so a crash of the supervisor itself cannot orphan it."""

    def watch(self, name: str, pid: int, *, group: bool, sig: int) -> None: ...

    def unwatch(self, pid: int) -> None: ...


class NoWatcher:
    def watch(self, name: str, pid: int, *, group: bool, sig: int) -> None:
        pass

    def unwatch(self, pid: int) -> None:
        pass


class SupervisedService:
    """Keeps `name` running: a fresh child from `make_child` after every exit, after a back-off delay.

    With `fatal_first_start`, a first start that fails ends the supervision instead (`started` raises):
    what everything else needs must come up once before it is worth restarting.
    """

    def __init__(
        self,
        name: str,
        make_child: Callable[[], Child],
        console: Console,
        *,
        backoff: CrashLoopBackOff | None = None,
        watcher: ProcessWatcher | None = None,
        clock: Callable[[], float] | None = None,
        fatal_first_start: bool = False,
    ) -> None:
        self.name = name
        self.restarts = 0
        self.pids: list[int] = []
        self._make_child = make_child
        self._console = console
        self._backoff = backoff or CrashLoopBackOff()
        self._watcher = watcher or NoWatcher()
        self._clock = clock
        self._fatal_first_start = fatal_first_start
        self._child: Child | None = None
        self._stopping = asyncio.Event()
        self._killed = False
        self._task: asyncio.Task[None] | None = None
        self._first: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        # Nobody awaits `started` for most services: a first failure must not be reported as unretrieved.
        self._first.add_done_callback(lambda f: f.cancelled() or f.exception())

    @property
    def pid(self) -> int | None:
        """The pid of the running child, if one is running."""
        child = self._child
        return child.pid if child is not None else None

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"supervise-{self.name}")

    async def started(self) -> int:
        """The pid of the first child once it has started; raises the `LaunchError` if that failed."""
        return await asyncio.shield(self._first)

    async def _supervise(self) -> None:
        clock = self._clock or asyncio.get_running_loop().time
        try:
            while not self._stopping.is_set():
                began = clock()
                outcome = await self._run_child()
                if self._stopping.is_set() or (self._fatal_first_start and not self.pids):
                    return
                delay = self._backoff.next_delay(clock() - began)
                self.restarts += 1
                self._console.warn(
                    f"{self.name} {outcome}, restarting in {delay:.1f} s (restart #{self.restarts})", about=self.name
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
        finally:
            self._first.cancel()  # stopped before the first start: nothing to wait for

    async def _run_child(self) -> str:
        """Run one child to its end; returns what happened, for the log."""
        child = self._child = self._make_child()
        try:
            pid = await child.start()
        except LaunchError as exc:
            if not self._first.done():
                self._first.set_exception(exc)
            return f"could not start ({exc})"
        self.pids.append(pid)
        self._watcher.watch(self.name, pid, group=child.group, sig=child.stop_signal)
        if not self._first.done():
            self._first.set_result(pid)
        if self._stopping.is_set():
            # The stop came while it was starting, before it could be signalled.
            child.send(signal.SIGKILL if self._killed else child.stop_signal)
        elif self.restarts and child.announces_ready:
            self._console.info(f"{self.name} is back (pid {pid})", about=self.name)
        else:
            self._console.info(f"started {self.name} (pid {pid})", about=self.name)
        try:
            return f"exited ({describe_exit(await child.wait())})"
        finally:
            self._watcher.unwatch(pid)

    async def stop(self, grace: float) -> None:
        """Send the child its stop signal; SIGKILL it if it is still there after `grace` seconds."""
        self._stopping.set()
        task = self._task
        if task is None:
            return
        if self._child is not None:
            self._child.send(self._child.stop_signal)
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            self._console.warn(f"{self.name} did not stop within {grace:g}s: killing it", about=self.name)
            self.kill()
            await task

    def kill(self) -> None:
        """SIGKILL the child now."""
        self._stopping.set()
        self._killed = True
        if self._child is not None:
            self._child.send(signal.SIGKILL)


def describe_exit(code: int) -> str:
    if code < 0:
        return f"signal {-code}"
    return f"code {code}"
