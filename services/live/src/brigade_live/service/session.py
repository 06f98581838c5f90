"""One connected socket: who it is, what it subscribed to, and the frames on their way to it.

Frames reach a socket two ways, never at the same moment (one lock): straight from a replay, which
waits for the socket at its own pace, and through a bounded queue for live events, which the
fan-out fills without ever waiting. A socket whose queue is full cannot keep up: it is closed
(4008) rather than slow anyone else down or hold memory without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from brigade_live.domain import protocol
from brigade_live.domain.channels import Channel, Event
from brigade_live.service.ports import Principal, Socket

log = structlog.get_logger("brigade_live.session")


class Subscription:
    """A session's interest in one channel: held back while its replay runs, then live."""

    def __init__(self, session: Session, channel: Channel, held_frames: int) -> None:
        self.session = session
        self.channel = channel
        self.live = False
        self.held: list[str] = []
        self._held_frames = held_frames

    def push(self, event: Event, frame: str) -> None:
        """A live event of the channel (the fan-out's call: never waits)."""
        if not self.channel.visible(event, self.session.principal):
            return
        if self.live:
            self.session.enqueue(frame)
        elif len(self.held) < self._held_frames:
            self.held.append(frame)
        else:
            self.session.close_soon(protocol.TOO_SLOW, "too many events arrived during the catch-up")


class Session:
    def __init__(
        self,
        socket: Socket,
        principal: Principal,
        *,
        queue_frames: int,
    ) -> None:
        self.socket = socket
        self.principal = principal
        self.subscriptions: dict[str, Subscription] = {}
        self.closed = False
        self.close_code: int | None = None
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_frames)
        self._lock = asyncio.Lock()
        # Called once when the server closes the socket (the hub: leave every feed at once).
        self.on_close: Callable[[Session], None] = lambda _: None
        self._closing: asyncio.Task[None] | None = None

    async def send(self, text: str) -> None:
        """Send a frame now (after any frame being sent), waiting for the socket."""
        if self.closed:
            return
        async with self._lock:
            await self.socket.send(text)

    def enqueue(self, text: str) -> None:
        """Queue a frame for the pump; a full queue closes the socket (4008)."""
        if self.closed:
            return
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.close_soon(protocol.TOO_SLOW, "the client does not keep up with its events")

    @property
    def backlog(self) -> int:
        """Frames queued, not yet sent."""
        return self._queue.qsize()

    async def pump(self) -> None:
        """Send the queued frames, in order, until the session closes."""
        while not self.closed:
            text = await self._queue.get()
            await self.send(text)

    def close_soon(self, code: int, reason: str) -> None:
        """Close the socket with `code` (from code that cannot wait); the first reason wins."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        log.info("live_socket_closed", user=self.principal.sub, code=code, reason=reason)
        self.on_close(self)
        self._closing = asyncio.create_task(self.socket.close(code, reason))

    async def closed_by_server(self) -> None:
        """Wait for a close the server started (if any) to be sent."""
        if self._closing is not None:
            await asyncio.shield(self._closing)
