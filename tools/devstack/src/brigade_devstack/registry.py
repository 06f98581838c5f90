"""What the supervisor has running, kept where a later run (or the reaper) can clean it up.

Children are recorded with their start time, so a recycled pid is never mistaken for one of ours.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import psutil


@dataclass(frozen=True)
class Entry:
    """A child to stop with `sig` (to its whole group when `group`), if it is still the same process."""

    name: str
    pid: int
    create_time: float
    group: bool
    sig: int

    def matches(self) -> bool:
        """Still alive, and still the process we started (not a recycled pid)."""
        try:
            proc = psutil.Process(self.pid)
            started = float(proc.create_time())
            return bool(proc.status() != psutil.STATUS_ZOMBIE) and abs(started - self.create_time) < 0.5
        except psutil.Error:
            return False

    def send(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.group:
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)


def create_time(pid: int) -> float:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return 0.0


def terminate(entries: Iterable[Entry], grace: float = 15.0) -> list[Entry]:
    """Stop every entry still alive: its own signal, then SIGKILL after `grace`. Returns those found alive."""
    alive = [e for e in entries if e.matches()]
    for entry in alive:
        entry.send(entry.sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(e.matches() for e in alive):
        time.sleep(0.05)
    for entry in alive:
        if entry.matches():
            entry.send(signal.SIGKILL)
            if not entry.group:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(entry.pid, signal.SIGKILL)
    return alive


def read_entries(path: Path) -> list[Entry]:
    try:
        data = json.loads(path.read_text())
        return [Entry(**item) for item in data.get("processes", [])]
    except (OSError, ValueError, TypeError):
        return []


class Registry:
    """Records live children in `state_file` and hands them to a reaper process.

    The reaper reads this process's pipe; when the pipe closes without the children having been
    unwatched (the supervisor was killed, even with SIGKILL), it stops them.
    """

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self._entries: dict[int, Entry] = {}
        self._reaper: subprocess.Popen[bytes] | None = None
        self._pipe: IO[bytes] | None = None

    def cleanup_stale(self) -> list[Entry]:
        """Stop what a previous, crashed run left behind; returns what was stopped."""
        stopped = terminate(read_entries(self.state_file))
        with contextlib.suppress(FileNotFoundError):
            self.state_file.unlink()
        return stopped

    def start_reaper(self) -> None:
        self._reaper = subprocess.Popen(
            [sys.executable, "-m", "brigade_devstack.reaper"],
            stdin=subprocess.PIPE,
            start_new_session=True,
        )
        self._pipe = self._reaper.stdin

    def watch(self, name: str, pid: int, *, group: bool, sig: int) -> None:
        entry = Entry(name, pid, create_time(pid), group, int(sig))
        self._entries[pid] = entry
        self._tell(f"watch {json.dumps(asdict(entry))}")
        self._save()

    def unwatch(self, pid: int) -> None:
        if self._entries.pop(pid, None) is not None:
            self._tell(f"unwatch {pid}")
            self._save()

    def close(self) -> None:
        """Called after a clean shutdown: the reaper exits, finding nothing left to stop."""
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
        if self._reaper is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._reaper.wait(timeout=20)
        if not self._entries:
            with contextlib.suppress(FileNotFoundError):
                self.state_file.unlink()

    def _tell(self, line: str) -> None:
        if self._pipe is None:
            return
        try:
            self._pipe.write(line.encode() + b"\n")
            self._pipe.flush()
        except OSError:
            self._pipe = None  # the reaper is gone; the state file still lets the next run clean up

    def _save(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        payload = {"supervisor": os.getpid(), "processes": [asdict(e) for e in self._entries.values()]}
        tmp.write_text(json.dumps(payload, indent=1))
        tmp.replace(self.state_file)
