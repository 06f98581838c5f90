"""Restart delays for crashing services, in the spirit of Kubernetes' CrashLoopBackOff."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CrashLoopBackOff:
    """1 s, 2 s, 4 s … capped at 30 s; a run that lasted `reset_after` seconds starts the count again."""

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    reset_after: float = 60.0
    failures: int = field(default=0, init=False)

    def next_delay(self, uptime: float) -> float:
        """The wait before restarting a process that just exited after `uptime` seconds."""
        if uptime >= self.reset_after:
            self.failures = 0
        delay = min(self.initial * self.factor**self.failures, self.cap)
        self.failures += 1
        return delay
