"""In-memory stand-ins for the hub's ports: a stream log and sockets that record what they get."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from brigade_live.service.ports import Stored


def matches(pattern: str, subject: str) -> bool:
    if pattern.endswith(">"):
        return subject.startswith(pattern[:-1])
    return fnmatchcase(subject, pattern)


def matches_any(patterns: tuple[str, ...], subject: str) -> bool:
    return any(matches(p, subject) for p in patterns)


def envelope(type_: str, **data: Any) -> bytes:
    return json.dumps({"id": "e", "type": type_, "correlation_id": "c", "data": data}).encode()


@dataclass
class _Follower:
    log: FakeLog
    stream: str
    subjects: tuple[str, ...]
    deliver: Callable[[Stored], None]

    async def stop(self) -> None:
        self.log.followers.remove(self)


@dataclass
class FakeLog:
    """Streams as lists. Followers get each message as it is appended; a replay yields to the event
    loop between pages, so a test can append while one runs (`between_pages`)."""

    streams: dict[str, list[Stored]] = field(default_factory=dict)
    first: dict[str, int] = field(default_factory=dict)
    followers: list[_Follower] = field(default_factory=list)
    between_pages: Callable[[], None] | None = None
    pages_served: int = 0

    def append(self, stream: str, subject: str, data: bytes) -> int:
        messages = self.streams.setdefault(stream, [])
        seq = self.last(stream) + 1
        stored = Stored(seq, subject, data)
        messages.append(stored)
        for follower in list(self.followers):
            if follower.stream == stream and matches_any(follower.subjects, subject):
                follower.deliver(stored)
        return seq

    def last(self, stream: str) -> int:
        messages = self.streams.get(stream, [])
        return messages[-1].seq if messages else self.first.get(stream, 1) - 1

    def drop_before(self, stream: str, seq: int) -> None:
        """The stream no longer keeps what came before `seq` (max age, max messages)."""
        self.streams[stream] = [m for m in self.streams.get(stream, []) if m.seq >= seq]
        self.first[stream] = seq

    async def bounds(self, stream: str) -> tuple[int, int]:
        messages = self.streams.get(stream, [])
        last = self.last(stream)
        return (messages[0].seq if messages else last + 1), last

    async def replay(
        self, stream: str, subjects: tuple[str, ...], after: int, until: int, page: int
    ) -> AsyncIterator[list[Stored]]:
        wanted = [
            m for m in self.streams.get(stream, []) if after < m.seq <= until and matches_any(subjects, m.subject)
        ]
        for start in range(0, len(wanted), page):
            yield wanted[start : start + page]
            self.pages_served += 1
            if self.between_pages is not None:
                self.between_pages()
            await asyncio.sleep(0)

    async def follow(
        self, stream: str, subjects: tuple[str, ...], after: int, deliver: Callable[[Stored], None]
    ) -> _Follower:
        follower = _Follower(self, stream, subjects, deliver)
        self.followers.append(follower)
        return follower


@dataclass
class FakeSocket:
    """Records every frame sent; `stalled` makes every send wait until `resume()`."""

    frames: list[dict[str, Any]] = field(default_factory=list)
    closed: tuple[int, str] | None = None
    stalled: bool = False
    _resumed: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, text: str) -> None:
        if self.stalled:
            await self._resumed.wait()
        self.frames.append(json.loads(text))

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def resume(self) -> None:
        self.stalled = False
        self._resumed.set()

    def of(self, kind: str, channel: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind and (channel is None or f.get("channel") == channel)]

    def seqs(self, channel: str) -> list[int]:
        return [f["seq"] for f in self.of("event", channel)]
