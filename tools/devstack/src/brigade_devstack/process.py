"""Service processes: each in its own process group, output relayed line by line."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from brigade_devstack.console import Console
from brigade_devstack.errors import LaunchError

LINE_LIMIT = 1 << 20


@dataclass(frozen=True)
class Command:
    """What to run for service `name`."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: Path | None = None


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


class CommandChild:
    """One run of a service's command, in a process group of its own, its output relayed to the console."""

    group: bool = True
    stop_signal: int = signal.SIGTERM
    announces_ready: bool = False

    def __init__(self, command: Command, console: Console) -> None:
        self.command = command
        self._console = console
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    async def start(self) -> int:
        try:
            self._proc = await spawn(self.command)
        except OSError as exc:
            raise LaunchError(str(exc)) from None
        return self._proc.pid

    async def wait(self) -> int:
        if self._proc is None:
            raise RuntimeError("wait() before start()")
        return await wait_relaying(self._proc, self.command.name, self._console)

    def send(self, sig: int) -> None:
        pid = self.pid
        if pid is not None:
            signal_group(pid, sig)
