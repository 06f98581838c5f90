"""What a service's unit of work is to its use cases, whatever repositories it carries: a
transaction they enter, `commit`, or leave without a commit to undo everything.

Each service's port (`service/ports.py`) extends it with its repositories; the adapter that
implements it is built on `brigade_common.unit_of_work`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self


class Transactional(Protocol):
    async def commit(self) -> None:
        """Write what the use case changed, with the messages its events become."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
