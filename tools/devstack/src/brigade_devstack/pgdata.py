"""Who uses PostgreSQL's data directory: a stale `postmaster.pid` may go only once nobody does.

devservers deletes a leftover `postmaster.pid` before it starts PostgreSQL. That is safe only when
no process of an earlier server is left: a backend that outlives its postmaster (SIGKILL reaches the
postmaster alone, each backend is a session of its own) still holds the shared memory and the data
files a new postmaster would take over. Every PostgreSQL process works in its data directory, which
is how they are found.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import psutil

from brigade_devstack.errors import LaunchError


def users(data_dir: Path) -> list[psutil.Process]:
    """Live processes whose working directory is `data_dir` (zombies hold nothing any more)."""
    target = os.path.realpath(data_dir)
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.status() != psutil.STATUS_ZOMBIE and proc.cwd() == target:
                found.append(proc)
    return found


def recorded_postmaster(data_dir: Path) -> int | None:
    """The pid `postmaster.pid` names, if the file is there and readable."""
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def release(data_dir: Path, timeout: float = 10.0) -> list[int]:
    """Leave `data_dir` free for a new postmaster: kill what a dead one left; returns their pids.

    Raises `LaunchError` when the postmaster `postmaster.pid` names is alive and serving (a second
    server must not start over it), or when the leftovers outlive `timeout`.
    """
    leftovers = users(data_dir)
    postmaster = recorded_postmaster(data_dir)
    if any(proc.pid == postmaster for proc in leftovers):
        raise LaunchError(f"PostgreSQL (pid {postmaster}) is still serving {data_dir}")
    for proc in leftovers:
        with contextlib.suppress(psutil.Error):
            proc.kill()  # their postmaster is gone: the new one replays the WAL anyway
    deadline = time.monotonic() + timeout
    while (left := users(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)
    if left:
        pids = ", ".join(str(proc.pid) for proc in left)
        raise LaunchError(f"processes of an earlier PostgreSQL (pids {pids}) still use {data_dir}")
    return [proc.pid for proc in leftovers]


def stop_stale_postgres(data_dir: Path, timeout: float = 30.0) -> int | None:
    """Stop a PostgreSQL still serving `data_dir` after a crashed run; returns its pid if there was one."""
    try:
        pid = recorded_postmaster(data_dir)
        if pid is None:
            return None
        proc = psutil.Process(pid)
        if "postgres" not in proc.name() or str(data_dir) not in " ".join(proc.cmdline()):
            return None
        proc.send_signal(signal.SIGINT)  # fast shutdown: checkpoint, then exit
        try:
            proc.wait(timeout)
        except psutil.TimeoutExpired:
            proc.kill()
    except (OSError, psutil.Error):
        return None
    return pid
