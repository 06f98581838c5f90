"""Sign-in throttling: how many attempts an account, and a client address, may make in a window.

Each attempt is counted before the password is checked (so a burst sent at once is counted as a
burst), and a successful one is forgiven afterwards: the limits bound guesses, not sign-ins. A
window starts with the first attempt and ends `seconds` later, whatever happens meanwhile, so
attempts refused while it lasts do not make it last longer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Attempts:
    """A counter after the attempt just made: how many in the current window, since when."""

    count: int
    window_started: datetime


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: float

    def restarts(self, window_started: datetime, now: datetime) -> bool:
        """Whether an attempt at `now` begins a new window."""
        return now >= window_started + timedelta(seconds=self.seconds)

    def retry_after(self, attempts: Attempts, now: datetime) -> int | None:
        """Seconds until the window ends when `attempts` is past the limit (at least 1), else None."""
        if attempts.count <= self.limit:
            return None
        left = (attempts.window_started + timedelta(seconds=self.seconds) - now).total_seconds()
        return max(1, math.ceil(left))


@dataclass(frozen=True)
class SigninThrottle:
    account: Window
    address: Window

    def retry_after(self, account: Attempts, address: Attempts, now: datetime) -> int | None:
        """How long the caller must wait (None: the attempt may go on)."""
        waits = [w for w in (self.account.retry_after(account, now), self.address.retry_after(address, now)) if w]
        return max(waits) if waits else None
