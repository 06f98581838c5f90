"""Admission control for the reservation transaction: at most N at once per process.

Every order of a dish locks the same pantry rows. Past a few concurrent reservation transactions,
more of them only queue inside PostgreSQL on those row locks, each holding a pooled connection, and the
queue's hand-offs lengthen every lock hold (the lock convoy). A semaphore keeps that queue in the
process instead, where waiting is cheap. A limit of 0 admits everything (no control).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Admission:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit) if limit > 0 else None

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots is None:
            yield
            return
        async with self._slots:
            yield
