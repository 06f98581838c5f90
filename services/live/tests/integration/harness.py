"""The live service served for real, clients that speak its protocol, and events published as the
kitchen, the warehouse and the notifications service publish them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
from nats.aio.client import Client as NATS
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from brigade_common.envelope import Envelope
from brigade_common.testing.inprocess import TestKeys
from brigade_common.testing.serving import serving
from brigade_contracts import notifications
from brigade_contracts.kitchen import ORDER_PLACED, PANTRY_MOVED
from brigade_live.bootstrap import create_app
from brigade_live.config import Settings

PATH = "/api/live/ws"


@dataclass
class LiveServer:
    url: str
    keys: TestKeys
    nc: NATS

    def token(self, sub: str = "sam", roles: tuple[str, ...] = ("staff",), ttl_s: int = 3600) -> str:
        return self.keys.token(sub, roles, ttl_s)

    async def publish(self, subject: str, data: dict[str, Any], *, padding: int = 0) -> int:
        """Publish an event as its owner would; returns its stream sequence."""
        if padding:
            data = {**data, "note": "x" * padding}
        ack = await self.nc.jetstream().publish(subject, Envelope.wrap(subject, data).to_bytes())
        return ack.seq

    async def publish_many(self, subject: str, count: int, **data: Any) -> list[int]:
        """`count` events, published without waiting for each acknowledgement in turn."""
        js = self.nc.jetstream()
        seqs: list[int] = []
        for start in range(0, count, 1_000):
            acks = await asyncio.gather(
                *(
                    js.publish(subject, Envelope.wrap(subject, {**data, "movement_id": i}).to_bytes())
                    for i in range(start, min(count, start + 1_000))
                )
            )
            seqs += [a.seq for a in acks]
        return sorted(seqs)

    async def moved(self, count: int = 1) -> list[int]:
        return [await self.publish(PANTRY_MOVED, {"movement_id": i, "ingredient": "pan"}) for i in range(count)]

    async def placed(self, customer: str) -> int:
        return await self.publish(ORDER_PLACED, {"order_id": str(uuid.uuid4()), "customer_id": customer})

    async def notified(self, user: str, unread: int = 1) -> int:
        """A notification stored for `user`, as the notifications service announces it."""
        created = notifications.NotificationCreated(
            notification_id=str(uuid.uuid4()),
            user_id=user,
            kind="order_placed",
            title="Order received",
            body="1 × Pan simple: the kitchen is gathering the ingredients.",
            data={"order_id": str(uuid.uuid4())},
            created_at=datetime.now(UTC),
            unread=unread,
        )
        return await self.publish(notifications.NOTIFICATION_CREATED, created.model_dump(mode="json"))

    async def read_all(self, user: str) -> int:
        read = notifications.NotificationsRead(user_id=user, notification_ids=[], all=True, unread=0)
        return await self.publish(notifications.NOTIFICATIONS_READ, read.model_dump(mode="json"))


@asynccontextmanager
async def live_server(nats_url: str, keys: TestKeys, **settings: Any) -> AsyncIterator[LiveServer]:
    """The live app served on a loopback port, with the service's own limits unless `settings` say
    otherwise (a short sign-in grace would close sockets whose first frame a busy machine delays)."""
    app = create_app(Settings(nats_url=nats_url, jwt_public_keys=keys.jwks, **settings))
    nc = await nats.connect(nats_url)
    try:
        async with serving(app) as url:
            yield LiveServer(url.replace("http://", "ws://") + PATH, keys, nc)
    finally:
        await nc.drain()


class Client:
    """A client of the feed, reading every frame as it comes (unless told to stall): what it
    received, and waits for what it expects next."""

    def __init__(self, ws: ClientConnection, *, reading: bool = True) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self._cursor = 0
        self._arrived = asyncio.Event()
        self._done = asyncio.Event()
        self._reader = asyncio.create_task(self._read()) if reading else None

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                self.frames.append(json.loads(text))
                self._arrived.set()
        except ConnectionClosed:
            pass
        finally:
            rcvd = self.ws.protocol.close_rcvd
            self.close_code = rcvd.code if rcvd is not None else -1
            self.close_reason = rcvd.reason if rcvd is not None else ""
            self._done.set()
            self._arrived.set()

    def read_on(self) -> None:
        """Start reading (a client that stalled catches up with what the server sent it)."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def until(self, kind: str, channel: str | None = None, timeout: float = 20) -> dict[str, Any]:
        """The next frame of `kind` (on `channel`) after those already looked at."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            while self._cursor < len(self.frames):
                frame = self.frames[self._cursor]
                self._cursor += 1
                if frame["type"] == kind and (channel is None or frame.get("channel") == channel):
                    return frame
            if self._done.is_set():
                raise AssertionError(f"closed ({self.close_code} {self.close_reason!r}) before a {kind} frame came")
            self._arrived.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {kind} frame within {timeout}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def until_seq(self, channel: str, seq: int, timeout: float = 20) -> None:
        """Wait until the event `seq` of `channel` (or a later one) arrived."""
        while not any(s >= seq for s in self.seqs(channel)):
            await self.until("event", channel, timeout)

    async def closed(self, timeout: float = 10) -> int:
        """Wait until the server closed the socket; its close code."""
        self.read_on()
        await asyncio.wait_for(self._done.wait(), timeout)
        assert self.close_code is not None
        return self.close_code

    def of(self, kind: str, channel: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind and (channel is None or f.get("channel") == channel)]

    def seqs(self, channel: str) -> list[int]:
        return [f["seq"] for f in self.of("event", channel)]


@asynccontextmanager
async def client(
    live: LiveServer, token: str | None = None, *, reading: bool = True, **connect_options: Any
) -> AsyncIterator[Client]:
    """A socket on the feed, signed in by its first frame with `token` (none: not signed in)."""
    async with connect(live.url, open_timeout=10, **connect_options) as ws:
        c = Client(ws, reading=reading)
        if token is not None:
            await c.send({"type": "auth", "token": token})
            if reading:
                await c.until("ready")
        try:
            yield c
        finally:
            if c._reader is not None:
                c._reader.cancel()
