"""Admission control: at most N transactions at once, and the jobs that come meanwhile taken together
into the next. Pure logic: the "transaction" is a coroutine the test opens and closes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from brigade_common.admission import Admission, each_as_alone


class Runs:
    """The groups run, in order; each waits until the test lets it end (`release`, oldest first)."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self._gates: asyncio.Queue[asyncio.Event] = asyncio.Queue()
        self._ran = asyncio.Event()

    async def __call__(self, jobs: Sequence[str]) -> list[str | BaseException]:
        self.groups.append(list(jobs))
        gate = asyncio.Event()
        self._gates.put_nowait(gate)
        self._ran.set()
        await gate.wait()
        return [ValueError(job) if job.startswith("bad") else job.upper() for job in jobs]

    async def ran(self, groups: int) -> None:
        """Until that many groups have started."""
        while len(self.groups) < groups:
            self._ran.clear()
            await self._ran.wait()

    async def release(self) -> None:
        """Let the oldest running group end (once one runs)."""
        (await self._gates.get()).set()


Future = asyncio.Future[str]


async def behind_one(admission: Admission[str, str], runs: Runs, *jobs: str) -> tuple[Future, list[Future]]:
    """Job "a" running alone in the one slot, and `jobs` submitted while it runs (they wait)."""
    first = asyncio.ensure_future(admission.submit("a"))
    await runs.ran(1)  # "a" runs alone: nothing waited for a group to fill
    later = [asyncio.ensure_future(admission.submit(job)) for job in jobs]
    await asyncio.sleep(0)  # (lets them reach the queue; they cannot start: the one slot is taken)
    return first, later


async def test_a_job_that_finds_a_slot_runs_at_once_and_those_that_come_meanwhile_go_together() -> None:
    runs = Runs()
    first, later = await behind_one(Admission(1, runs), runs, "b", "c", "d")
    assert runs.groups == [["a"]]
    await runs.release()
    assert await first == "A"
    await runs.release()
    assert [await job for job in later] == ["B", "C", "D"]
    assert runs.groups == [["a"], ["b", "c", "d"]]  # one transaction for the three, in their order


async def test_a_group_takes_no_more_than_max_group_and_the_rest_go_in_the_next() -> None:
    runs = Runs()
    first, later = await behind_one(Admission(1, runs, max_group=2), runs, "b", "c", "d")
    for _ in range(3):
        await runs.release()
    await asyncio.gather(first, *later)
    assert runs.groups == [["a"], ["b", "c"], ["d"]]


async def test_two_slots_run_two_transactions_at_once() -> None:
    runs = Runs()
    admission: Admission[str, str] = Admission(2, runs)
    a = asyncio.ensure_future(admission.submit("a"))
    await runs.ran(1)
    b = asyncio.ensure_future(admission.submit("b"))
    await runs.ran(2)  # "b" does not wait for "a" to end: the second slot is free
    assert runs.groups == [["a"], ["b"]]
    await runs.release()
    await runs.release()
    assert (await a, await b) == ("A", "B")


async def test_each_job_gets_its_own_result_or_error() -> None:
    runs = Runs()
    first, (good, bad) = await behind_one(Admission(1, runs), runs, "b", "bad-c")
    await runs.release()
    await runs.release()
    assert await first == "A" and await good == "B"
    with pytest.raises(ValueError, match="bad-c"):
        await bad


async def test_a_job_whose_caller_left_while_it_waited_is_not_run() -> None:
    runs = Runs()
    first, (gone, kept) = await behind_one(Admission(1, runs), runs, "gone", "kept")
    gone.cancel()
    await runs.release()
    await runs.release()
    assert await first == "A" and await kept == "KEPT"
    assert runs.groups == [["a"], ["kept"]]


async def test_a_failing_group_fails_each_of_its_jobs_and_the_next_group_still_runs() -> None:
    first_runs, first_done = asyncio.Event(), asyncio.Event()
    groups: list[list[str]] = []

    async def run(jobs: Sequence[str]) -> list[str | BaseException]:
        groups.append(list(jobs))
        if jobs == ["a"]:
            first_runs.set()
            await first_done.wait()
        if len(jobs) > 1:
            raise ConnectionError("the database went away")
        return list(jobs)

    admission: Admission[str, str] = Admission(1, run)
    first = asyncio.ensure_future(admission.submit("a"))
    await first_runs.wait()
    group = [asyncio.ensure_future(admission.submit(j)) for j in ("b", "c")]
    await asyncio.sleep(0)
    first_done.set()
    assert await first == "a"
    results = await asyncio.gather(*group, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert await admission.submit("d") == "d"
    assert groups == [["a"], ["b", "c"], ["d"]]


async def test_with_no_limit_every_job_runs_alone_in_its_callers_task() -> None:
    groups: list[list[str]] = []

    async def run(jobs: Sequence[str]) -> list[str | BaseException]:
        groups.append(list(jobs))
        return [asyncio.current_task().get_name() for _ in jobs]  # type: ignore[union-attr]

    admission: Admission[str, str] = Admission(0, run)
    task = asyncio.create_task(admission.submit("a"), name="the caller")
    assert await task == "the caller"
    assert groups == [["a"]]


async def test_each_as_alone_runs_alone_what_the_group_left_and_every_job_of_a_failed_group() -> None:

    ran_alone: list[str] = []

    async def alone(job: str) -> str:
        ran_alone.append(job)
        if job == "bad":
            raise ValueError(job)
        return f"{job} alone"

    async def leaves_b(group: Sequence[str]) -> list[str | None]:
        return [None if job == "b" else f"{job} together" for job in group]

    assert await each_as_alone(["a", "b"], leaves_b, alone, what="t") == ["a together", "b alone"]
    assert ran_alone == ["b"]

    async def fails(group: Sequence[str]) -> list[str | None]:
        raise ConnectionResetError("the connection broke")

    ran_alone.clear()
    outcomes = await each_as_alone(["a", "bad"], fails, alone, what="t")
    assert outcomes[0] == "a alone" and isinstance(outcomes[1], ValueError)
    [lone] = await each_as_alone(["a"], fails, alone, what="t")
    assert isinstance(lone, ConnectionResetError)  # a lone job is not tried twice
    assert ran_alone == ["a", "bad"]
