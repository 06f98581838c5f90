"""No orphans and no clobbering: the reaper, stale clean-up, the lock, reset, port checks at start-up."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from brigade_common.devservers import free_port
from brigade_common.testing.waiting import wait_until
from brigade_devstack.catalog import service_table
from brigade_devstack.demo_users import load_users, seed_setting, users_file
from brigade_devstack.errors import DevstackError
from brigade_devstack.layout import Layout
from brigade_devstack.lockfile import StackLock
from brigade_devstack.registry import Entry, Registry, create_time
from brigade_devstack.reset import reset
from brigade_devstack.tokens import sign_in_token
from tools.devstack.tests.devstack_testing import REPO_ROOT, alive


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def test_reaper_stops_children_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    supervisor = textwrap.dedent("""
        import signal, subprocess, sys, time
        from pathlib import Path
        from brigade_devstack.registry import Registry
        registry = Registry(Path(sys.argv[1]))
        registry.start_reaper()
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
        registry.watch("sleeper", child.pid, group=True, sig=signal.SIGTERM)
        print(child.pid, flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", supervisor, str(tmp_path / "processes.json")], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    assert alive(child)
    proc.kill()  # SIGKILL: the supervisor gets no chance to clean up
    proc.wait()
    wait_until(lambda: not alive(child), timeout=10, what="the reaper to stop the orphan")


def test_stale_processes_of_a_crashed_run_are_stopped(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    registry = Registry(tmp_path / "processes.json")
    registry.watch("sleeper", sleeper.pid, group=True, sig=signal.SIGTERM)
    # A recycled pid: same number as a live process (this one), but not the process we started.
    registry.watch("recycled", os.getpid(), group=False, sig=signal.SIGTERM)
    state = (tmp_path / "processes.json").read_text()
    state = state.replace(str(create_time(os.getpid())), "1.0")
    (tmp_path / "processes.json").write_text(state)

    stopped = Registry(tmp_path / "processes.json").cleanup_stale()
    assert [e.name for e in stopped] == ["sleeper"]
    assert sleeper.wait(timeout=5) == -signal.SIGTERM
    assert not (tmp_path / "processes.json").exists()


def test_entries_match_only_their_own_process(sleeper: subprocess.Popen[bytes]) -> None:
    assert Entry("s", sleeper.pid, create_time(sleeper.pid), True, signal.SIGTERM).matches()
    assert not Entry("s", sleeper.pid, 1.0, True, signal.SIGTERM).matches()


def test_reset_refuses_while_the_stack_runs(tmp_path: Path) -> None:
    layout = Layout(root=tmp_path, home=tmp_path / ".brigade")
    (layout.home / "postgres").mkdir(parents=True)
    lock = StackLock(layout.run_dir / "devstack.lock")
    lock.acquire("testing")
    try:
        with pytest.raises(DevstackError, match=rf"Brigade is running from .* \(pid {os.getpid()}\)"):
            reset(layout)
        assert layout.home.exists()
    finally:
        lock.release()
    assert reset(layout).startswith("removed")
    assert not layout.home.exists()
    assert reset(layout).startswith("nothing to reset")


def test_reset_refuses_a_folder_brigade_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(DevstackError, match="refusing to delete"):
        reset(Layout(root=tmp_path, home=tmp_path))
    assert (tmp_path / "thesis.tex").exists()


def test_the_demo_users_are_made_once_and_kept_private(tmp_path: Path) -> None:
    layout = Layout(root=tmp_path, home=tmp_path / "home")
    users = load_users(layout)
    assert [(u.email, u.roles) for u in users] == [
        ("customer@example.com", ("customer",)),
        ("staff@example.com", ("customer", "staff")),
        ("admin@example.com", ("customer", "staff", "admin")),
    ]
    assert all(len(u.password) >= 12 for u in users) and len({u.password for u in users}) == 3
    assert load_users(layout) == users  # the same passwords at every `make up`
    assert stat.S_IMODE(users_file(layout).stat().st_mode) == 0o600
    assert [u["email"] for u in json.loads(seed_setting(users))] == [u.email for u in users]
    with pytest.raises(DevstackError, match="ROLE must be one of"):
        sign_in_token(layout, "http://127.0.0.1:1", role="chef")


def test_up_refuses_taken_ports_before_starting_anything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "BRIGADE_HOME": str(home), "BRIGADE_NATS_PORT": str(free_port())}
    env.update({spec.port_env: str(free_port()) for spec in service_table()})
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        env["BRIGADE_PG_PORT"] = str(taken)
        result = subprocess.run(
            [sys.executable, "-m", "brigade_devstack", "up"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert (
        f"port {taken} is already in use, but PostgreSQL needs it: "
        "stop whatever listens there or set BRIGADE_PG_PORT to another port"
    ) in result.stderr
    assert not (home / "postgres").exists()
    assert not [p for p in psutil.Process().children(recursive=True) if "brigade_devstack" in " ".join(p.cmdline())]
