"""A server as a supervised child, with a stand-in for devservers' PostgresServer / NatsServer: it is
reaped when it dies, never left half-started, and the data directory check runs before it starts."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from brigade_common.devservers import DevServerError
from brigade_common.testing.waiting import eventually
from brigade_devstack.console import Console
from brigade_devstack.errors import LaunchError
from brigade_devstack.servers import ServerChild
from brigade_devstack.supervised import SupervisedService


class StandInServer:
    """Starts a sleeper as devservers starts a server. `ready=False`: it never answers; `slow`: it
    answers only after a minute, so a start waits (as devservers does) unless the process exits."""

    def __init__(self, ready: bool = True, slow: bool = False) -> None:
        self.ready = ready
        self.slow = slow
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> StandInServer:
        self.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
        if not self.ready:
            raise DevServerError("PostgreSQL did not become ready within 60s")
        if self.slow:
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                return self
            raise DevServerError(f"PostgreSQL exited with code {self.proc.returncode} while starting")
        return self


@pytest.fixture
def server() -> Iterator[StandInServer]:
    stand_in = StandInServer()
    yield stand_in
    if stand_in.proc is not None and stand_in.proc.poll() is None:
        stand_in.proc.kill()
        stand_in.proc.wait()


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


async def test_a_killed_server_is_reaped_then_cleared_up_after(server: StandInServer) -> None:
    calls: list[str] = []
    child = ServerChild(
        server,
        stop_signal=signal.SIGINT,
        before_start=lambda: calls.append("before_start"),
        after_exit=lambda: calls.append("after_exit"),
    )
    child.send(signal.SIGINT)  # before it exists: nothing to signal, no error
    pid = await child.start()
    assert child.pid == pid
    os.kill(pid, signal.SIGKILL)
    assert await child.wait() == -signal.SIGKILL
    assert reaped(pid), "no zombie left"
    assert child.pid is None
    assert calls == ["before_start", "after_exit"]


async def test_the_stop_signal_reaches_the_server(server: StandInServer) -> None:
    child = ServerChild(server, stop_signal=signal.SIGTERM)
    await child.start()
    child.send(child.stop_signal)
    assert await child.wait() == -signal.SIGTERM


async def test_a_server_that_never_gets_ready_is_killed_and_reaped() -> None:
    server = StandInServer(ready=False)
    with pytest.raises(LaunchError, match="did not become ready"):
        await ServerChild(server, stop_signal=signal.SIGINT).start()
    assert server.proc is not None
    assert server.proc.returncode == -signal.SIGKILL


async def test_a_refused_data_directory_means_no_start(server: StandInServer) -> None:
    def refuse() -> None:
        raise LaunchError("PostgreSQL (pid 42) is still serving /data")

    with pytest.raises(LaunchError, match="still serving"):
        await ServerChild(server, stop_signal=signal.SIGINT, before_start=refuse).start()
    assert server.proc is None


async def test_a_stop_while_the_server_is_starting_ends_the_start() -> None:
    server = StandInServer(slow=True)
    out = io.StringIO()
    service = SupervisedService(
        "postgres", lambda: ServerChild(server, stop_signal=signal.SIGINT), Console(["postgres"], None, stream=out)
    )
    service.start()
    await eventually(lambda: server.proc is not None, what="the server process")
    assert server.proc is not None
    await asyncio.wait_for(service.stop(grace=30), timeout=20)  # not the minute the start would take
    # Ended by the stop signal, not killed: 1 when it landed while Python itself was still starting
    # (a KeyboardInterrupt before any handler), as it can on a loaded machine.
    assert server.proc.returncode in (-signal.SIGINT, 1)
    assert service.pids == []
    with pytest.raises(LaunchError, match="while starting"):
        await service.started()
