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


class CpuMeter:
    """`groups` maps a name to a function giving its pids now (called at start and at stop)."""

    def __init__(self, groups: Mapping[str, Callable[[], list[int]]] | None = None) -> None:
        self.groups: dict[str, Callable[[], list[int]]] = dict(groups or {})
        self._t0 = 0.0
        self._start: dict[str, dict[int, float]] = {}

    def _sample(self) -> dict[str, dict[int, float]]:
        return {name: {pid: _cpu_s(pid) for pid in pids()} for name, pids in self.groups.items()}

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._start = self._sample()

    def stop(self) -> dict[str, float]:
        """Cores used by each group since `start` (backends that came and went are missed)."""
        elapsed = time.perf_counter() - self._t0
        end = self._sample()
        out = {}
        for name, now in end.items():
            before = self._start.get(name, {})
            used = sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())
            out[name] = round(used / elapsed, 2) if elapsed > 0 else 0.0
        return out
