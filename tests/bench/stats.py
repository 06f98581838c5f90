"""What one measured step yields: counts, throughput and latency percentiles."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by the nearest-rank method; NaN for no values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Step:
    """One measured step: `latencies_s` of the successful requests completed inside the window."""

    label: str
    concurrency: int
    window_s: float
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    note: str = ""
    # CPU used during the step (warm-up included), in cores, by process group: {"kitchen": 0.93, ...}
    cpu: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.latencies_s.sort()

    @property
    def ok(self) -> int:
        return len(self.latencies_s)

    @property
    def rate(self) -> float:
        """Successful operations per second over the measured window."""
        return self.ok / self.window_s if self.window_s > 0 else math.nan

    def ms(self, q: float) -> float:
        return percentile(self.latencies_s, q) * 1000

    @property
    def p50(self) -> float:
        return self.ms(50)

    @property
    def p95(self) -> float:
        return self.ms(95)

    @property
    def p99(self) -> float:
        return self.ms(99)

    def summary(self) -> str:
        codes = " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items()))
        cpu = " ".join(f"{k} {v:.2f}" for k, v in self.cpu.items() if v >= 0.01)
        return (
            f"{self.label:<34} c={self.concurrency:<3} {self.rate:8.1f}/s  p50 {self.p50:8.2f}  "
            f"p95 {self.p95:8.2f}  p99 {self.p99:8.2f} ms  errors {self.errors}  [{codes}]"
            + (f"  cpu: {cpu}" if cpu else "")
        )
