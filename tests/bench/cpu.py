"""Which process burns the two cores: CPU time per process group over a step, from /proc."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    """`pid` and its direct children (PostgreSQL's backends are children of the postmaster)."""
    out = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append(int(entry.name))
    return out


def _machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy (all but idle and iowait), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


async def wait_quiet(max_wait_s: float, idle_cores: float = 0.25) -> float:
    """Wait (at most `max_wait_s`) until the machine's busy CPU stays under `idle_cores` for half a
    second: other work on the machine (a test run) would skew the next step. Returns the busy cores seen."""
    import asyncio

    deadline = time.monotonic() + max_wait_s
    while True:
        b0, t0 = _machine_busy_s(), time.perf_counter()
        await asyncio.sleep(0.5)
        busy = (_machine_busy_s() - b0) / (time.perf_counter() - t0)
        if busy < idle_cores or time.monotonic() >= deadline:
            return busy


class CpuMeter:
    """`groups` maps a name to a function giving its pids now (called at start and at stop)."""

    def __init__(self, groups: Mapping[str, Callable[[], list[int]]] | None = None) -> None:
        self.groups: dict[str, Callable[[], list[int]]] = dict(groups or {})
        self._t0 = 0.0
        self._start: dict[str, dict[int, float]] = {}
        self._busy0 = 0.0

    def _sample(self) -> dict[str, dict[int, float]]:
        return {name: {pid: _cpu_s(pid) for pid in pids()} for name, pids in self.groups.items()}

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._start = self._sample()
        self._busy0 = _machine_busy_s()

    def stop(self) -> dict[str, float]:
        """Cores used by each group since `start` (backends that came and went are missed), and by
        everything else on the machine as `other` (other work on the machine skews the figures)."""
        elapsed = time.perf_counter() - self._t0
        end = self._sample()
        busy = _machine_busy_s() - self._busy0
        out = {}
        for name, now in end.items():
            before = self._start.get(name, {})
            used = sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())
            out[name] = round(used / elapsed, 2) if elapsed > 0 else 0.0
        if elapsed > 0:
            out["other"] = round(max(busy / elapsed - sum(out.values()), 0.0), 2)
        return out
