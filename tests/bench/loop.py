"""A closed-loop load driver: `concurrency` workers repeat an operation for a fixed time.

A warm-up comes first and is not measured; the window then counts what completes inside it.
Operations still running `grace_s` after the window are cancelled and counted as errors.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tests.bench.stats import Step

# An operation for worker i: (succeeded, status label). Raising counts as an error too.
Operation = Callable[[int], Awaitable[tuple[bool, str]]]


@dataclass(frozen=True)
class Timing:
    warmup_s: float
    measure_s: float
    max_ops: int = 1_000_000
    grace_s: float = 30.0


async def closed_loop(label: str, op: Operation, concurrency: int, timing: Timing) -> Step:
    """Run `op` from `concurrency` workers; return the step measured after the warm-up."""
    t_start = time.perf_counter()
    m0 = t_start + timing.warmup_s
    m1 = m0 + timing.measure_s
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors = 0
    started = 0
    last_end = m0

    async def worker(i: int) -> None:
        nonlocal errors, started, last_end
        while True:
            t0 = time.perf_counter()
            if t0 >= m1 or started >= timing.max_ops:
                return
            started += 1
            try:
                ok, code = await op(i)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                ok, code = False, type(exc).__name__
            t1 = time.perf_counter()
            if m0 <= t1 < m1:
                last_end = max(last_end, t1)
                statuses[code] += 1
                if ok:
                    latencies.append(t1 - t0)
                else:
                    errors += 1

    tasks = [asyncio.create_task(worker(i)) for i in range(concurrency)]
    deadline = m1 + timing.grace_s - time.perf_counter()
    try:
        _, pending = await asyncio.wait(tasks, timeout=max(deadline, 0.1))
    finally:  # also when the run is cancelled: no worker outlives its step
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if pending:
        statuses["timeout"] += len(pending)
        errors += len(pending)
    window = (m1 if started < timing.max_ops else min(m1, last_end)) - m0
    return Step(label, concurrency, window, latencies, statuses, errors)


def cancel_on_signals() -> None:
    """Ctrl-C, SIGTERM and SIGHUP cancel the current task, so every `finally` stops its servers.
    Installed explicitly: a launcher may start the process with SIGINT ignored, and asyncio then
    leaves it ignored."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, task.cancel)
