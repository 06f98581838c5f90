"""The frames: what a client may send, what is wrong with what it sent, and what it gets back."""

from __future__ import annotations

import json

import pytest

from brigade_live.domain import protocol


def test_client_frames_parse() -> None:
    assert protocol.parse('{"type": "subscribe", "channel": "pantry", "after": 12}') == protocol.Subscribe(
        type="subscribe", channel="pantry", after=12
    )
    assert protocol.parse('{"type": "subscribe", "channel": "orders"}').after is None
    assert protocol.parse('{"type": "auth", "token": "t"}') == protocol.Authenticate(type="auth", token="t")
    assert isinstance(protocol.parse('{"type": "ping"}'), protocol.Ping)
    assert protocol.parse('{"type": "unsubscribe", "channel": "stock"}').channel == "stock"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "code", "names"),
    [
        ("not json", "bad-frame", "frame"),
        ('{"type": "dance"}', "bad-frame", "frame"),
        ('{"type": "subscribe", "channel": "pantry", "after": -1}', "bad-frame", "subscribe.after"),
        ('{"type": "subscribe", "channel": "pantry", "after": "12"}', "bad-frame", "subscribe.after"),
        ('{"type": "subscribe"}', "bad-frame", "subscribe.channel"),
        ('{"type": "auth", "token": ""}', "bad-frame", "auth.token"),
        ('{"type": "ping", "extra": 1}', "bad-frame", "ping.extra"),
        ('{"type": "ping", "pad": "' + "x" * 20_000 + '"}', "frame-too-large", ""),
    ],
)
def test_a_bad_frame_is_named(text: str, code: str, names: str) -> None:
    with pytest.raises(protocol.BadFrame) as caught:
        protocol.parse(text)
    assert caught.value.code == code
    assert str(caught.value).startswith(names)


def test_server_frames_are_json_with_the_envelope_as_stored() -> None:
    envelope = '{"id":"e1","type":"kitchen.pantry.moved.v1","data":{"ingredient":"pan","delta":-2}}'
    frame = json.loads(protocol.event("pantry", 41, envelope))
    assert frame == {"type": "event", "channel": "pantry", "seq": 41, "event": json.loads(envelope)}
    assert json.loads(protocol.live("pantry", 41)) == {"type": "live", "channel": "pantry", "seq": 41}
    assert json.loads(protocol.reset("stock", "gone"))["reason"] == "gone"
    assert json.loads(protocol.error("forbidden", "no")) == {"type": "error", "code": "forbidden", "message": "no"}
    assert json.loads(protocol.PING) == {"type": "ping"}
