"""Conditional reads: which If-None-Match values name an ETag, and the 304 that answers them."""

from __future__ import annotations

import pytest

from brigade_common.conditional import conditional_json, digest_etag, none_match


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ('"3"', True),
        ('W/"3"', True),  # If-None-Match compares weakly
        ('"1", "3"', True),
        ('"1",W/"3"', True),
        ("*", True),
        (" * ", True),
        ('"30"', False),
        ('"1", "2"', False),
        ("3", False),  # not a tag: matches nothing
        ("", False),
    ],
)
def test_if_none_match_names_the_etag(header: str | None, matches: bool) -> None:
    assert none_match(header, '"3"') is matches


def test_a_body_is_sent_with_its_digest_and_withheld_when_the_client_holds_it() -> None:
    full = conditional_json([{"id": "pan"}], if_none_match=None)
    assert (full.status_code, full.body, full.media_type) == (200, b'[{"id":"pan"}]', "application/json")
    tag = full.headers["etag"]
    assert tag == digest_etag(b'[{"id":"pan"}]') != digest_etag(b'[{"id":"pan2"}]')
    held = conditional_json([{"id": "pan"}], if_none_match=tag)
    assert (held.status_code, held.body, held.headers["etag"]) == (304, b"", tag)
    assert conditional_json({"v": 2}, if_none_match='"1"', etag='"2"').status_code == 200
