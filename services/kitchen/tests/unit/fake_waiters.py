"""In-memory fakes of the order waiters (`OrderWaiters`, `Waiting`), for unit tests of placing an order
the way a customer waits for it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

from brigade_kitchen.domain.events import OrderChanged


class FakeWaiting:
    def __init__(self, settled: asyncio.Future[OrderChanged], missed: Callable[[], None] | None) -> None:
        self.settled = settled
        self._missed = missed

    async def listen(self) -> bool:
        if self._missed is None:
            return True  # listened all along
        self._missed()  # the outcome came while nobody listened
        return False


class FakeWaiters:
    """Records registrations; with `outcome`, the saga "settles" each order the moment it is
    registered, which is before its transaction even commits (the fastest reply there can be).
    With `missed`, nobody listened at the registration: the outcome (`missed(order_id)`, which
    changes the stored order) comes before the wait starts listening, and never reaches the future."""

    def __init__(
        self, outcome: Callable[[str], OrderChanged] | None = None, missed: Callable[[str], None] | None = None
    ) -> None:
        self.waiting: dict[str, asyncio.Future[OrderChanged]] = {}
        self.registered: list[str] = []
        self._outcome = outcome
        self._missed = missed

    @contextlib.contextmanager
    def register(self, order_id: str) -> Iterator[FakeWaiting]:
        fut: asyncio.Future[OrderChanged] = asyncio.get_running_loop().create_future()
        self.registered.append(order_id)
        self.waiting[order_id] = fut
        if self._outcome is not None:
            fut.set_result(self._outcome(order_id))
        missed = self._missed
        try:
            yield FakeWaiting(fut, None if missed is None else lambda: missed(order_id))
        finally:
            self.waiting.pop(order_id, None)
