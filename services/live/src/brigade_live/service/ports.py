"""What the hub needs from the world: the streams it reads, and the sockets it writes to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

from brigade_live.domain.channels import Viewer


@dataclass(frozen=True)
class Stored:
    """A message as a stream holds it."""

    seq: int
    subject: str
    data: bytes


class Principal(Viewer, Protocol):
    """Who signed a socket in (a verified token), as far as the sessions need: until when it holds."""

    @property
    def expires_at(self) -> float | None: ...


class Following(Protocol):
    async def stop(self) -> None: ...


class EventLog(Protocol):
    async def bounds(self, stream: str) -> tuple[int, int]:
        """The first and last sequence `stream` holds (first = last + 1 when it holds nothing)."""
        ...

    def replay(
        self, stream: str, subjects: tuple[str, ...], after: int, until: int, page: int
    ) -> AsyncIterator[list[Stored]]:
        """The messages of `subjects` with `after` < seq <= `until`, in order, `page` at a time."""
        ...

    async def follow(
        self, stream: str, subjects: tuple[str, ...], after: int, deliver: Callable[[Stored], None]
    ) -> Following:
        """Call `deliver` with every message of `subjects` after `after`, in order, as it arrives,
        until stopped (riding out reconnections)."""
        ...


class Socket(Protocol):
    async def send(self, text: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...
