"""PostgreSQL's data directory is released only when nobody uses it: stand-in "postgres" processes
(sleepers working in the directory) take the place of a postmaster and of the backends it left."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from brigade_common.testing.waiting import wait_until
from brigade_devstack.errors import LaunchError
from brigade_devstack.pgdata import release, users


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def fake_postgres(spawned: list[subprocess.Popen[bytes]], cwd: Path) -> int:
    cwd.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], cwd=cwd, start_new_session=True)
    spawned.append(proc)
    wait_until(lambda: _cwd(proc.pid) == str(cwd.resolve()), what="the stand-in in its directory")
    return proc.pid


def _cwd(pid: int) -> str | None:
    try:
        return psutil.Process(pid).cwd()
    except psutil.Error:
        return None


def record_postmaster(data: Path, pid: int) -> None:
    # The first line of postmaster.pid is the postmaster's pid; the rest does not matter here.
    (data / "postmaster.pid").write_text(f"{pid}\n{data}\n1700000000\n5433\n")


def test_leftovers_of_a_dead_postmaster_are_killed(tmp_path: Path, spawn: list[subprocess.Popen[bytes]]) -> None:
    data = tmp_path / "postgres"
    backend = fake_postgres(spawn, data)
    fake_postgres(spawn, tmp_path / "elsewhere")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record_postmaster(data, dead.pid)

    assert release(data) == [backend]
    assert spawn[0].wait(timeout=5) == -9
    assert spawn[1].poll() is None, "a process working elsewhere is left alone"
    assert users(data) == []
    assert (data / "postmaster.pid").exists(), "devservers removes it, now that it may"


def test_a_live_postmaster_keeps_its_directory(tmp_path: Path, spawn: list[subprocess.Popen[bytes]]) -> None:
    data = tmp_path / "postgres"
    postmaster = fake_postgres(spawn, data)
    record_postmaster(data, postmaster)
    with pytest.raises(LaunchError, match=rf"PostgreSQL \(pid {postmaster}\) is still serving"):
        release(data)
    assert spawn[0].poll() is None
    assert (data / "postmaster.pid").read_text().startswith(f"{postmaster}\n")


def test_a_recycled_pid_in_the_lock_file_is_not_a_postmaster(tmp_path: Path) -> None:
    data = tmp_path / "postgres"
    data.mkdir()
    record_postmaster(data, os.getpid())  # alive, but not working in the data directory
    assert release(data) == []


def test_zombies_hold_nothing(tmp_path: Path, spawn: list[subprocess.Popen[bytes]]) -> None:
    data = tmp_path / "postgres"
    data.mkdir()
    exited = subprocess.Popen([sys.executable, "-c", "pass"], cwd=data)
    spawn.append(exited)
    wait_until(lambda: psutil.Process(exited.pid).status() == psutil.STATUS_ZOMBIE, what="an unreaped child")
    assert users(data) == []
    assert release(data) == []
