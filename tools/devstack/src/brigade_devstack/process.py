"""Child processes: each in its own process group, output relayed line by line, restarted when it crashes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from brigade_devstack.backoff import CrashLoopBackOff
from brigade_devstack.console import Console

LINE_LIMIT = 1 << 20


@dataclass(frozen=True)
class Command:
    """What to run for service `name`."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: Path | None = None


class ProcessWatcher(Protocol):
    """Told about every live child, so a crash of the supervisor itself cannot orphan it."""

    def watch(self, name: str, pid: int, *, group: bool, sig: int) -> None: ...

    def unwatch(self, pid: int) -> None: ...


class NoWatcher:
    def watch(self, name: str, pid: int, *, group: bool, sig: int) -> None:
        pass

    def unwatch(self, pid: int) -> None:
        pass


def signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to a whole process group; False when it no longer exists."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


async def spawn(command: Command) -> asyncio.subprocess.Process:
    # A new session keeps the terminal's Ctrl-C away from children (the supervisor stops them in
    # order) and makes the child's pid the id of a group that also holds anything it forks.
    return await asyncio.create_subprocess_exec(
        *command.argv,
        env=dict(command.env),
        cwd=command.cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        limit=LINE_LIMIT,
    )


async def _relay(stream: asyncio.StreamReader | None, name: str, console: Console) -> None:
    if stream is None:
        return
    while True:
        try:
            line = await stream.readline()
        except ValueError:
            console.line(name, f"[a line longer than {LINE_LIMIT} bytes was dropped]")
            continue
        if not line:
            return
        console.line(name, line.decode("utf-8", "replace"))


async def wait_relaying(proc: asyncio.subprocess.Process, name: str, console: Console) -> int:
    """Relay the child's output until it exits; then clear out whatever is left of its group."""
    relays = [asyncio.create_task(_relay(s, name, console)) for s in (proc.stdout, proc.stderr)]
    try:
        code = await proc.wait()
    finally:
        # Leftovers of a crashed service would keep its port (and the pipes) open.
        signal_group(proc.pid, signal.SIGKILL)
        _done, pending = await asyncio.wait(relays, timeout=2.0)
        for task in pending:
            task.cancel()
    return code


async def run_once(command: Command, console: Console, grace: float = 5.0) -> int:
    """Run a one-shot command (migrate, seed) to completion; cancelling it stops the child."""
    proc = await spawn(command)
    try:
        return await wait_relaying(proc, command.name, console)
    except asyncio.CancelledError:
        await terminate(proc, grace)
        raise


async def terminate(proc: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM the child's group, SIGKILL it after `grace` seconds."""
    if proc.returncode is not None:
        return
    signal_group(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        signal_group(proc.pid, signal.SIGKILL)
        await proc.wait()


class SupervisedService:
    """Keeps one long-running command alive, restarting it with back-off until stopped."""

    def __init__(
        self,
        command: Command,
        console: Console,
        *,
        backoff: CrashLoopBackOff | None = None,
        watcher: ProcessWatcher | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.command = command
        self.name = command.name
        self.restarts = 0
        self.pids: list[int] = []
        self._console = console
        self._backoff = backoff or CrashLoopBackOff()
        self._watcher = watcher or NoWatcher()
        self._clock = clock
        self._proc: asyncio.subprocess.Process | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The pid of the running child, if one is running."""
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"supervise-{self.name}")

    async def _supervise(self) -> None:
        clock = self._clock or asyncio.get_running_loop().time
        while not self._stopping.is_set():
            started = clock()
            code = await self._run_child()
            if self._stopping.is_set():
                return
            delay = self._backoff.next_delay(clock() - started)
            self.restarts += 1
            self._console.warn(
                f"{self.name} exited with {describe_exit(code)}; restart #{self.restarts} in {delay:g}s",
                about=self.name,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _run_child(self) -> int | None:
        try:
            proc = await spawn(self.command)
        except OSError as exc:
            self._console.error(f"cannot start {self.name}: {exc}", about=self.name)
            return None
        self._proc = proc
        self.pids.append(proc.pid)
        self._watcher.watch(self.name, proc.pid, group=True, sig=signal.SIGTERM)
        if self._stopping.is_set():
            signal_group(proc.pid, signal.SIGTERM)
        else:
            self._console.info(f"started {self.name} (pid {proc.pid})", about=self.name)
        try:
            return await wait_relaying(proc, self.name, self._console)
        finally:
            self._watcher.unwatch(proc.pid)

    async def stop(self, grace: float) -> None:
        """SIGTERM the service's process group; SIGKILL it if still alive after `grace` seconds."""
        self._stopping.set()
        task = self._task
        if task is None:
            return
        proc = self._proc
        if proc is not None and proc.returncode is None:
            signal_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            self._console.warn(f"{self.name} did not stop within {grace:g}s: killing it", about=self.name)
            self.kill()
            await task

    def kill(self) -> None:
        """SIGKILL the service's process group now."""
        self._stopping.set()
        proc = self._proc
        if proc is not None and proc.returncode is None:
            signal_group(proc.pid, signal.SIGKILL)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "no process"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"
