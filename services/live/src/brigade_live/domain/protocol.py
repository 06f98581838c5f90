"""The feed's protocol: JSON text frames any client can speak without a library.

Client → server:
    {"type": "auth", "token": "<access token>"}          sign in (first frame), or a fresh token later
    {"type": "subscribe", "channel": "pantry", "after": 1234}   `after`: the last seq applied; omit for new only
    {"type": "unsubscribe", "channel": "pantry"}
    {"type": "ping"}                                       answered {"type": "pong"}

Server → client:
    {"type": "ready", "user": "…", "roles": […], "expires_at": …}   signed in (again, after a fresh token)
    {"type": "event", "channel": "pantry", "seq": 1235, "event": {…the envelope…}}   in seq order
    {"type": "live", "channel": "pantry", "seq": 1300}     the replay is done: what follows is live
    {"type": "reset", "channel": "pantry", "reason": "…"}  `after` is not in the stream any more: reload
    {"type": "ping"}                                       every LIVE_PING_S
    {"type": "error", "code": "…", "message": "…"}         a frame the server could not act on

Close codes: 4401 not signed in (in time) or the token expired; 4403 a cookie from another site;
4008 a client too slow to keep up; 1013 the keys to check tokens are out of reach (try again).
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

UNAUTHENTICATED = 4401
FORBIDDEN = 4403
TOO_SLOW = 4008
TRY_AGAIN_LATER = 1013
GOING_AWAY = 1001
MAX_FRAME_CHARS = 16_384


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Authenticate(_Frame):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=8_192)


class Subscribe(_Frame):
    type: Literal["subscribe"]
    channel: str = Field(min_length=1, max_length=64)
    after: int | None = Field(default=None, ge=0)


class Unsubscribe(_Frame):
    type: Literal["unsubscribe"]
    channel: str = Field(min_length=1, max_length=64)


class Ping(_Frame):
    type: Literal["ping"]


ClientFrame = Annotated[Authenticate | Subscribe | Unsubscribe | Ping, Field(discriminator="type")]
_FRAMES: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


class BadFrame(ValueError):
    """A frame the server cannot act on; `code` and the message go back in an `error` frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse(text: str) -> Authenticate | Subscribe | Unsubscribe | Ping:
    """The client frame `text` is; `BadFrame` naming what is wrong otherwise."""
    if len(text) > MAX_FRAME_CHARS:
        raise BadFrame("frame-too-large", f"a frame is at most {MAX_FRAME_CHARS} characters")
    try:
        return _FRAMES.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "frame"
        raise BadFrame("bad-frame", f"{where}: {first['msg']}") from None


def _dumps(frame: dict[str, object]) -> str:
    return json.dumps(frame, separators=(",", ":"))


def event(channel: str, seq: int, envelope: str) -> str:
    """An `event` frame around the envelope as stored (already JSON: it is not parsed again)."""
    return f'{{"type":"event","channel":{json.dumps(channel)},"seq":{seq},"event":{envelope}}}'


def live(channel: str, seq: int) -> str:
    return _dumps({"type": "live", "channel": channel, "seq": seq})


def reset(channel: str, reason: str) -> str:
    return _dumps({"type": "reset", "channel": channel, "reason": reason})


def ready(user: str, roles: list[str], expires_at: float | None) -> str:
    return _dumps({"type": "ready", "user": user, "roles": roles, "expires_at": expires_at})


def error(code: str, message: str) -> str:
    return _dumps({"type": "error", "code": code, "message": message})


PING = _dumps({"type": "ping"})
PONG = _dumps({"type": "pong"})
