"""Admission control for a transaction that every job of a kind runs on the same rows: at most N at
once per process, and the jobs that come meanwhile taken together into the next.

Jobs that lock the same rows (every order of a dish its pantry rows; every delivery of an ingredient
its stock row) go one transaction after the other however many run at once, and each transaction holds
the rows for its round trips under the lock. Past a few concurrent transactions, more of them only
queue inside PostgreSQL on those locks, each holding a pooled connection. So at most `limit` run at
once; a job that comes while they all run waits here, and when one ends, it takes every job waiting
(up to `max_group`) into its next transaction: one lock, one write and one commit for all of them,
where one by one each would pay for its own (the way PostgreSQL's own group commit shares a WAL
flush). A job that finds a free slot starts at once (with any that came in the same instant): nothing
waits for a group to fill. `run` does the group's work and answers each job; it may give a job the
outcome it would have had alone by running it alone (the kitchen's orders and deliveries, the
warehouse's supply commands).

A limit of 0 admits everything, each job in its caller's task (no control). `each_as_alone` is the `run` the
services give it: the group's transaction, then alone what it left or every job of a group that failed.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from brigade_common.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")
R = TypeVar("R")

# Runs jobs together: a result or an exception for each, in their order.
RunGroup = Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]]


# The most jobs one transaction takes, unless its user says otherwise.
MAX_GROUP = 32


class Admission(Generic[T, R]):
    def __init__(self, limit: int, run: RunGroup[T, R], *, max_group: int = MAX_GROUP) -> None:
        self.limit = limit
        self.max_group = max_group
        self._run = run
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._slots = 0  # transactions running (each a task of its own)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> int:
        """Jobs waiting for a slot."""
        return len(self._waiting)

    async def submit(self, job: T) -> R:
        """The job's result, once the transaction it went in has ended (its exception, if it failed)."""
        if self.limit <= 0:
            return _outcome((await self._run([job]))[0])
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((job, future))
        if self._slots < self.limit:
            self._slots += 1
            # A task of its own, in an empty context: the jobs it runs are several requests' (none of
            # them binds its logs), and a caller that goes away does not cancel the others' transaction.
            task = asyncio.create_task(self._slot(), context=contextvars.Context())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future  # cancelled while it waits: the job is dropped before it runs

    async def _slot(self) -> None:
        try:
            while self._waiting:
                taken, self._waiting = self._waiting[: self.max_group], self._waiting[self.max_group :]
                group = [(job, future) for job, future in taken if not future.done()]
                if not group:
                    continue
                try:
                    results = await self._run([job for job, _ in group])
                except asyncio.CancelledError:  # the process is stopping
                    for _, future in group:
                        future.cancel()
                    raise
                except Exception as exc:
                    for _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(group, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._slots -= 1


def _outcome(result: R | BaseException) -> R:
    if isinstance(result, BaseException):
        raise result
    return result


async def each_as_alone(
    jobs: Sequence[T],
    together: Callable[[Sequence[T]], Awaitable[Sequence[R | None]]],
    alone: Callable[[T], Awaitable[R]],
    *,
    what: str,
) -> list[R | BaseException]:
    """A `run` for `Admission`: the jobs `together` in one transaction, and `alone` (each in a transaction
    of its own) a job the group left (None), or every job when the group's transaction failed, so that
    each gets the outcome it would have had by itself. A lone job's failure is its outcome (not tried twice)."""
    try:
        grouped = await together(jobs)
    except Exception as exc:
        if len(jobs) == 1:
            return [exc]
        log.info("group_failed_each_alone", jobs=what, group=len(jobs), error=type(exc).__name__)
        grouped = [None] * len(jobs)
    outcomes: list[R | BaseException] = []
    for job, outcome in zip(jobs, grouped, strict=True):
        if outcome is None:
            try:
                outcome = await alone(job)
            except Exception as exc:  # it is this job's outcome
                outcomes.append(exc)
                continue
        outcomes.append(outcome)
    return outcomes
