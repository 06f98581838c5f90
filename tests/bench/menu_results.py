"""The menu bench's figures: what the kitchens' /metrics say the cache answered, the propagation of a
change, and the results a run collects (tests/bench/menu.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tests.bench.machine import Machine
from tests.bench.stats import Step, percentile

SECTION = "menu"
DISHES = "/api/kitchen/dishes"
TODAY = f"{DISHES}/today"
ANSWERS = ("local", "bucket", "source", "degraded")
_READS = re.compile(r'^kitchen_menu_cache_reads_total\{answered_by="(\w+)"\}\s+([0-9.e+]+)\s*$', re.M)
# In the mixed load: one operation in this many is a staff PATCH (read, then write with If-Match).
PATCH_EVERY = 50


def cache_reads(metrics: str) -> dict[str, int]:
    """`kitchen_menu_cache_reads_total` by `answered_by`, from a Prometheus text page (0 if absent)."""
    found = {k: 0 for k in ANSWERS}
    for answered_by, value in _READS.findall(metrics):
        found[answered_by] = int(float(value))
    return found


def reads_between(before: Sequence[Mapping[str, int]], after: Sequence[Mapping[str, int]]) -> dict[str, int]:
    """The reads of every process between two scrapes (one mapping per process, in the same order)."""
    return {k: sum(a.get(k, 0) - b.get(k, 0) for b, a in zip(before, after, strict=True)) for k in ANSWERS}


def hit_rate(reads: Mapping[str, int]) -> float:
    """Reads answered by a copy or the bucket over every read the cache took (degraded ones included:
    they went to PostgreSQL as a miss does)."""
    total = sum(reads.get(k, 0) for k in ANSWERS)
    return (reads.get("local", 0) + reads.get("bucket", 0)) / total if total else float("nan")


@dataclass
class Propagation:
    """Per change: from the PATCH's send and from its answer to the new version on every kitchen."""

    from_send_s: list[float] = field(default_factory=list)
    from_answer_s: list[float] = field(default_factory=list)
    write_s: list[float] = field(default_factory=list)
    missed: int = 0  # changes not seen everywhere within the poll's limit

    def add(self, sent: float, answered: float, seen: Sequence[float]) -> None:
        last = max(seen)
        self.write_s.append(answered - sent)
        self.from_send_s.append(last - sent)
        self.from_answer_s.append(last - answered)

    @staticmethod
    def ms(values: Sequence[float], q: float) -> float:
        return percentile(sorted(values), q) * 1000


@dataclass
class Results:
    machine: Machine | None = None
    steps: list[tuple[str, Step]] = field(default_factory=list)  # (cache on/off, step)
    mixed: Step | None = None
    reads: dict[str, int] = field(default_factory=dict)
    propagation: Propagation = field(default_factory=Propagation)
    load: tuple[float, float] = (0.0, 0.0)
