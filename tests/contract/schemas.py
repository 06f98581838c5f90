"""The schemathesis schema of each service: its declared document, the shared settings, a customer."""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

from brigade_common.idempotency import HEADER, valid_key
from tests.contract import identities, settings
from tests.contract.documents import declared


def load(service: str, identity: type[identities.Bearer] = identities.CustomerToken) -> OpenApiSchema:
    """`service`'s schema; every request carries a token of `identity` (schemathesis takes it off, or
    spoils it, where a check needs a request without valid credentials)."""
    schema = fresh_idempotency_keys(schemathesis.openapi.from_dict(declared()[service], config=settings.config()))
    schema = passwords_not_the_address(schema)
    schema = pictures_start_as_their_type(schema)
    # No caching: the token depends on the operation (CustomerToken), and schemathesis would otherwise
    # reuse the first one it got for five minutes.
    schema.auth(refresh_interval=None)(identity)
    return schema


def fresh_idempotency_keys(schema: OpenApiSchema) -> OpenApiSchema:
    """A valid `Idempotency-Key` is never sent twice. Generation repeats small values ("0"), and a
    key reused with another body is refused with 422 by design (the IETF Idempotency-Key draft;
    tested on its own in the kitchen's integration tests): schemathesis would read that as a valid
    request refused. Invalid keys are kept, for the checks that must see them refused.

    The keys are replaced by `_unique_keys`, a `before_call` hook, which schemathesis registers
    for every schema of the process only (it refuses one per schema): importing this module is what
    installs it, and `schema` is returned as it is."""
    return schema


# How a message is framed on the connection: the HTTP server's (uvicorn's) business, not the API's.
# A generated value there ("transfer-encoding: &br@") is refused as an invalid HTTP message with a
# plain-text 400 before any route runs, which says nothing of the API.
FRAMING = frozenset({"transfer-encoding", "content-length", "connection", "te", "upgrade", "keep-alive", "trailer"})


@schemathesis.hook("before_call")
def _unique_keys(context: Any, case: schemathesis.Case[Any], kwargs: dict[str, Any]) -> None:
    # Before each call, not at generation: cases the coverage phase builds are not mapped by a
    # schema's hooks, and the same generated key would come along with another body.
    if case.headers is None:
        return
    for name in [h for h in case.headers if h.lower() in FRAMING]:
        del case.headers[name]
    key = case.headers.get(HEADER)
    if isinstance(key, str) and valid_key(key):
        case.headers[HEADER] = f"contract-{uuid.uuid4()}"


def passwords_not_the_address(schema: OpenApiSchema) -> OpenApiSchema:
    """A sign-up whose password is its own e-mail address (or the part before the @) is refused with
    422 by design, a rule JSON Schema cannot state; generation finds such pairs among short strings
    (tested on its own in the auth service's integration tests). Keep generated bodies clear of it."""

    @schema.hook("map_body")  # type: ignore[misc]
    def distinct(context: Any, body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("email"), str) and isinstance(body.get("password"), str):
            address = body["email"].strip().casefold()
            if body["password"].strip().casefold() in (address, address.partition("@")[0]):
                password = body["password"]
                body["password"] = password + "#" if len(password) < 1024 else "#" + password[1:]
        return body

    return schema


# What the first bytes of a picture of each type are (the kitchen checks them).
SIGNATURES = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "image/webp": b"RIFF\x00\x00\x00\x00WEBP",
}


def pictures_start_as_their_type(schema: OpenApiSchema) -> OpenApiSchema:
    """A picture's bytes must begin as its type says (the magic bytes), a rule JSON Schema cannot
    state: a generated valid upload is given them (tested on its own in the kitchen's integration
    tests, with bytes that lie about their type)."""

    @schema.hook("map_case")  # type: ignore[misc]
    def signed(context: Any, case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
        magic = SIGNATURES.get(case.media_type or "")
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        if magic is not None and positive and isinstance(case.body, bytes | str):
            body = case.body.encode() if isinstance(case.body, str) else case.body
            case.body = magic + body
        return case

    return schema
