"""One measured load step, taken when the machine is quiet and repeated if other work disturbed it."""

from __future__ import annotations

from collections.abc import Callable

from tests.bench.cpu import CpuMeter, wait_quiet
from tests.bench.httpclient import HttpLoad
from tests.bench.loop import Timing, closed_loop
from tests.bench.stats import Step

DISTURBED_CORES = 0.25


async def measured_step(
    label: str,
    make_load: Callable[[], HttpLoad],
    concurrency: int,
    timing: Timing,
    meter: CpuMeter,
    *,
    quiet_wait_s: float,
    retries: int,
) -> Step:
    """Run a step (after waiting, bounded, for a quiet machine); while processes other than the bench's
    used more than DISTURBED_CORES, run it again (up to `retries` times) and keep the least disturbed."""
    best: Step | None = None
    for attempt in range(retries + 1):
        await wait_quiet(quiet_wait_s)
        load = make_load()
        meter.start()
        try:
            step = await closed_loop(label, load, concurrency, timing)
        finally:
            load.close()
        step.cpu = meter.stop()
        other = step.cpu.get("other", 0.0)
        if best is None or other < best.cpu.get("other", 0.0):
            best = step
        if other <= DISTURBED_CORES:
            break
        if attempt < retries:
            print(f"   other processes used {other:.2f} cores during this step: measuring it again", flush=True)
    assert best is not None
    return best
