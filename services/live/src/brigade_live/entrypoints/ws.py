"""The feed's WebSocket, `/api/live/ws`: sign in, then subscribe (protocol: brigade_live.domain.protocol).

A browser signs in with its session cookie, which counts only when the handshake's `Origin` is
this site (a page elsewhere could otherwise open the socket with the visitor's cookie); any client
may instead send `{"type": "auth", "token": …}` as its first frame. A token never travels in the
URL. Until signed in the socket gets nothing, and after `LIVE_AUTH_GRACE_S` it is closed (4401);
it is closed again when its token expires, unless a fresh one came the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from brigade_common.auth.keysource import KeysUnavailable
from brigade_common.auth.requests import handshake_token
from brigade_common.auth.verifier import JwtVerifier, Principal
from brigade_common.openapi import OpenAPI
from brigade_common.problems import Forbidden, Unauthorized
from brigade_live.domain import protocol
from brigade_live.service.hub import Hub
from brigade_live.service.session import Session

log = structlog.get_logger("brigade_live.ws")

PREFIX = "/api/live"
api = OpenAPI(title="Brigade live", version="1.0.0")


@dataclass(frozen=True)
class SocketLimits:
    auth_grace_s: float
    ping_s: float
    queue_frames: int


class StarletteSocket:
    """The hub's `Socket` on a Starlette WebSocket."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def send(self, text: str) -> None:
        await self.websocket.send_text(text)

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # already closed by the other side
            await self.websocket.close(code, reason)


class _Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def _verified(verifier: JwtVerifier, token: str) -> Principal:
    try:
        return await verifier.authenticate(token)
    except Unauthorized as exc:
        raise _Refused(protocol.UNAUTHENTICATED, str(exc.detail)) from None
    except KeysUnavailable:
        raise _Refused(protocol.TRY_AGAIN_LATER, "tokens cannot be checked right now: try again") from None


async def _first_frame_token(websocket: WebSocket, grace_s: float) -> str:
    try:
        message = await asyncio.wait_for(websocket.receive(), grace_s)
    except TimeoutError:
        raise _Refused(protocol.UNAUTHENTICATED, "not signed in: send {type: auth, token} first") from None
    if message["type"] == "websocket.disconnect":
        raise _Refused(protocol.GOING_AWAY, "gone")
    try:
        frame = protocol.parse(message.get("text") or "")
    except protocol.BadFrame:
        frame = None
    if not isinstance(frame, protocol.Authenticate):
        raise _Refused(protocol.UNAUTHENTICATED, "the first frame must be {type: auth, token}")
    return frame.token


@api.websocket(
    f"{PREFIX}/ws",
    summary="The live feed: pantry, stock, orders, notifications; resumable from a stream sequence",
)
async def feed(websocket: WebSocket) -> None:
    limits: SocketLimits = websocket.app.state.socket_limits
    verifier: JwtVerifier = websocket.app.state.jwt_verifier
    try:
        cookie = handshake_token(websocket)
    except Forbidden:
        await websocket.close(protocol.FORBIDDEN)  # before accepting: the handshake is refused (403)
        return
    await websocket.accept()
    try:
        token = cookie or await _first_frame_token(websocket, limits.auth_grace_s)
        principal = await _verified(verifier, token)
    except _Refused as refused:
        if refused.code != protocol.GOING_AWAY:
            await StarletteSocket(websocket).close(refused.code, refused.reason)
        return
    session = Session(StarletteSocket(websocket), principal, queue_frames=limits.queue_frames)
    await session.send(ready(principal))
    hub: Hub = websocket.app.state.hub
    await Connection(hub, session, verifier, limits).serve(websocket)


def ready(principal: Principal) -> str:
    return protocol.ready(principal.sub, sorted(principal.roles), principal.expires_at)


class Connection:
    """One signed-in socket's tasks: reading its frames, its pump, its pings, its expiry."""

    def __init__(self, hub: Hub, session: Session, verifier: JwtVerifier, limits: SocketLimits) -> None:
        self.hub = hub
        self.session = session
        self.verifier = verifier
        self.limits = limits
        self.refreshed = asyncio.Event()
        self.replays: dict[str, asyncio.Task[None]] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(self._guarded(coro), name=name)
        self.tasks = [t for t in self.tasks if not t.done()]
        self.tasks.append(task)
        return task

    async def _guarded(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a send to a socket that went away, or the stream out of reach
            if not self.session.closed:
                log.warning("live_socket_failed", user=self.session.principal.sub, error=repr(exc))
                self.session.close_soon(protocol.TRY_AGAIN_LATER, "the feed failed: reconnect and resume")

    async def serve(self, websocket: WebSocket) -> None:
        session = self.session
        self.hub.joined(session)
        self._spawn(session.pump(), "pump")
        self._spawn(self._pings(), "pings")
        self._spawn(self._expiry(), "expiry")
        try:
            while not session.closed:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                await self._handle(message.get("text"))
        except (WebSocketDisconnect, RuntimeError):
            pass  # the socket went away while a frame was being answered
        finally:
            session.closed = True
            for task in [*self.tasks, *self.replays.values()]:
                task.cancel()
            await asyncio.gather(*self.tasks, *self.replays.values(), return_exceptions=True)
            self.hub.left(session)
            await session.closed_by_server()

    async def _handle(self, text: str | None) -> None:
        try:
            if text is None:
                raise protocol.BadFrame("bad-frame", "frames are JSON text")
            frame = protocol.parse(text)
        except protocol.BadFrame as bad:
            await self.session.send(protocol.error(bad.code, str(bad)))
            return
        if isinstance(frame, protocol.Subscribe):
            self._cancel_replay(frame.channel)
            self.replays[frame.channel] = self._spawn(
                self.hub.subscribe(self.session, frame.channel, frame.after), f"subscribe-{frame.channel}"
            )
        elif isinstance(frame, protocol.Unsubscribe):
            self._cancel_replay(frame.channel)
            self.hub.unsubscribe(self.session, frame.channel)
        elif isinstance(frame, protocol.Ping):
            self.session.enqueue(protocol.PONG)
        else:
            await self._refresh(frame.token)

    def _cancel_replay(self, channel: str) -> None:
        task = self.replays.pop(channel, None)
        if task is not None:
            task.cancel()

    async def _refresh(self, token: str) -> None:
        try:
            principal = await _verified(self.verifier, token)
        except _Refused as refused:
            self.session.close_soon(refused.code, refused.reason)
            return
        if principal.sub != self.session.principal.sub:
            self.session.close_soon(protocol.UNAUTHENTICATED, "a fresh token must be for the same user")
            return
        self.session.principal = principal
        self.refreshed.set()
        for name in list(self.session.subscriptions):
            refusal = self.hub.refused(self.session, name)
            if refusal is not None:  # the roles changed: what they no longer allow stops
                self._cancel_replay(name)
                self.hub.unsubscribe(self.session, name)
                await self.session.send(refusal)
        await self.session.send(ready(principal))

    async def _pings(self) -> None:
        while True:
            await asyncio.sleep(self.limits.ping_s)
            self.session.enqueue(protocol.PING)

    async def _expiry(self) -> None:
        while True:
            self.refreshed.clear()
            expires_at = self.session.principal.expires_at
            if expires_at is None:
                return
            try:
                await asyncio.wait_for(self.refreshed.wait(), max(0.0, expires_at - time.time()))
            except TimeoutError:
                self.session.close_soon(protocol.UNAUTHENTICATED, "the token expired: sign in again")
                return
