"""The restart loop against fake children (no processes): back-off, what it logs, what the watcher is
told, a start that fails, and a stop that arrives while a child is down or still starting."""

from __future__ import annotations

import asyncio
import io
import signal

import pytest

from brigade_common.testing.waiting import eventually
from brigade_devstack.backoff import CrashLoopBackOff
from brigade_devstack.console import Console
from brigade_devstack.errors import LaunchError
from brigade_devstack.supervised import SupervisedService


class FakeChild:
    """A process in name only: it runs from `start` until `exit` (or a stop signal)."""

    group = False
    stop_signal: int = signal.SIGINT
    announces_ready = True

    def __init__(self, pid: int, failure: str | None = None, hold: asyncio.Event | None = None) -> None:
        self._pid = pid
        self._failure = failure
        self._hold = hold
        self.running = False
        self.signals: list[int] = []
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    @property
    def pid(self) -> int | None:
        return self._pid if self.running else None

    async def start(self) -> int:
        if self._hold is not None:
            await self._hold.wait()
        if self._failure:
            raise LaunchError(self._failure)
        self.running = True
        return self._pid

    async def wait(self) -> int:
        return await self._exited

    def send(self, sig: int) -> None:
        self.signals.append(sig)
        if self.running and sig in (self.stop_signal, signal.SIGKILL):
            self.exit(-sig)

    def exit(self, code: int) -> None:
        self.running = False
        self._exited.set_result(code)


class Children:
    """The child factory: hands out `FakeChild`ren in turn, failing the starts it is told to."""

    def __init__(self, failures: dict[int, str] | None = None, hold: asyncio.Event | None = None) -> None:
        self.made: list[FakeChild] = []
        self._failures = failures or {}
        self._hold = hold

    def __call__(self) -> FakeChild:
        n = len(self.made)
        child = FakeChild(101 + n, self._failures.get(n), self._hold)
        self.made.append(child)
        return child

    def running(self, n: int) -> bool:
        return len(self.made) > n and self.made[n].running


class Watcher:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def watch(self, name: str, pid: int, *, group: bool, sig: int) -> None:
        self.calls.append(("watch", pid))

    def unwatch(self, pid: int) -> None:
        self.calls.append(("unwatch", pid))


def supervised(
    children: Children, backoff: CrashLoopBackOff, **kwargs: bool
) -> tuple[SupervisedService, io.StringIO, Watcher]:
    out, watcher = io.StringIO(), Watcher()
    console = Console(["postgres"], None, stream=out)
    service = SupervisedService("postgres", children, console, backoff=backoff, watcher=watcher, **kwargs)
    service.start()
    return service, out, watcher


async def test_a_dead_server_is_restarted_with_back_off_and_announced_back() -> None:
    children = Children()
    service, out, watcher = supervised(children, CrashLoopBackOff(initial=0.1, cap=0.2))
    assert await service.started() == 101
    children.made[0].exit(-signal.SIGKILL)
    await eventually(lambda: children.running(1), what="a second child")
    children.made[1].exit(-signal.SIGKILL)
    await eventually(lambda: children.running(2), what="a third child")
    await service.stop(grace=1)

    text = out.getvalue()
    assert "devstack | started postgres (pid 101)" in text
    assert "postgres exited (signal 9), restarting in 0.1 s (restart #1)" in text
    assert "postgres is back (pid 102)" in text
    assert "postgres exited (signal 9), restarting in 0.2 s (restart #2)" in text
    assert "postgres is back (pid 103)" in text
    assert service.restarts == 2
    assert service.pids == [101, 102, 103]
    assert children.made[2].signals == [signal.SIGINT]  # its own stop signal
    assert watcher.calls == [(verb, pid) for pid in (101, 102, 103) for verb in ("watch", "unwatch")]


async def test_a_start_that_fails_counts_as_a_crash() -> None:
    children = Children({1: "port 5433 is already taken: cannot start PostgreSQL there"})
    service, out, watcher = supervised(children, CrashLoopBackOff(initial=0.1, cap=0.1))
    await service.started()
    children.made[0].exit(1)
    await eventually(lambda: children.running(2), what="a child after the failed start")
    await service.stop(grace=1)
    text = out.getvalue()
    assert "postgres exited (code 1), restarting in 0.1 s (restart #1)" in text
    assert (
        "postgres could not start (port 5433 is already taken: cannot start PostgreSQL there), "
        "restarting in 0.1 s (restart #2)"
    ) in text
    assert "postgres is back (pid 103)" in text
    assert ("watch", 102) not in watcher.calls


async def test_a_first_start_that_fails_ends_supervision_when_it_must_succeed() -> None:
    children = Children({0: "PostgreSQL exited with code 1 while starting"})
    service, out, _ = supervised(children, CrashLoopBackOff(initial=0.01), fatal_first_start=True)
    with pytest.raises(LaunchError, match="while starting"):
        await service.started()
    await service.stop(grace=1)
    assert len(children.made) == 1
    assert "restarting" not in out.getvalue()


async def test_a_service_whose_first_start_fails_is_still_retried() -> None:
    children = Children({0: "no such file"})
    service, _, _ = supervised(children, CrashLoopBackOff(initial=0.01))
    with pytest.raises(LaunchError):
        await service.started()
    await eventually(lambda: children.running(1), what="a retry")
    await service.stop(grace=1)


async def test_a_stop_while_it_is_down_does_not_wait_for_the_back_off() -> None:
    children = Children()
    service, out, _ = supervised(children, CrashLoopBackOff(initial=3600, cap=3600))
    await service.started()
    children.made[0].exit(-signal.SIGKILL)
    await eventually(lambda: "restarting in 3600.0 s" in out.getvalue(), what="the back-off")
    await asyncio.wait_for(service.stop(grace=1), timeout=10)
    assert len(children.made) == 1
    assert service.pid is None


@pytest.mark.parametrize(("grace", "sent"), [(10.0, signal.SIGINT), (0.05, signal.SIGKILL)])
async def test_a_stop_while_it_is_starting_stops_the_child_once_it_is_up(grace: float, sent: int) -> None:
    hold = asyncio.Event()
    children = Children(hold=hold)
    service, out, watcher = supervised(children, CrashLoopBackOff())
    await eventually(lambda: children.made, what="a start under way")
    stopping = asyncio.create_task(service.stop(grace=grace))
    if sent == signal.SIGKILL:
        await eventually(lambda: "did not stop within" in out.getvalue(), what="the grace to run out")
    hold.set()  # the server becomes ready only now
    await asyncio.wait_for(stopping, timeout=10)
    child = children.made[0]
    assert not child.running
    assert child.signals[-1] == sent
    assert watcher.calls == [("watch", 101), ("unwatch", 101)]
    assert len(children.made) == 1
