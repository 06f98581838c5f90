"""Conditional reads (RFC 9110, 13.1.2): a client that sends back the `ETag` it holds in
`If-None-Match` is answered 304 Not Modified, with no body, while that is still the resource's.

A read says what its ETag is: a version it keeps (a dish's `"3"`, which writes name in `If-Match`),
or, for a list, a digest of the JSON it would send. A browser's `fetch` sends `If-None-Match` by
itself for what its cache holds, so a menu read again and unchanged costs no body.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pydantic_core
from starlette.responses import Response

from brigade_common.inputs import Header

IF_NONE_MATCH = Header(
    name="If-None-Match",
    param="if_none_match",
    # Any text: a value that names no tag of the resource (however long or malformed) gets the full read.
    schema={"type": "string"},
    description='The ETags a cache holds (`"3"`, several separated by commas, or `*`): while the '
    "resource's is among them, the answer is 304 with no body.",
    # (RFC 9110: a condition the server cannot evaluate is not a reason to refuse a GET.)
    valid=lambda value: True,
    invalid="",
)


def _opaque(tag: str) -> str:
    """The tag without its weakness prefix: If-None-Match compares weakly."""
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when `If-None-Match` names `etag` (or is `*`): the client holds it already."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(tag) == wanted for tag in if_none_match.split(","))


def digest_etag(body: bytes) -> str:
    """A strong ETag for a body: the same bytes, the same tag."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def conditional_json(data: Any, *, if_none_match: str | None, etag: str | None = None) -> Response:
    """`data` as JSON with its `ETag` (`etag`, or the body's digest), or 304 when the client holds it."""
    body = pydantic_core.to_json(data, by_alias=True)
    tag = etag or digest_etag(body)
    if none_match(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, headers={"ETag": tag}, media_type="application/json")
