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
    # No caching: the token depends on the operation (CustomerToken), and schemathesis would otherwise
    # reuse the first one it got for five minutes.
    schema.auth(refresh_interval=None)(identity)
    return schema


def fresh_idempotency_keys(schema: OpenApiSchema) -> OpenApiSchema:
    """A valid `Idempotency-Key` is never sent twice. Generation repeats small values ("0"), and a
    key reused with another body is refused with 422 by design (the IETF Idempotency-Key draft;
    tested on its own in the kitchen's integration tests): schemathesis would read that as a valid
    request refused. Invalid keys are kept, for the checks that must see them refused."""

    @schema.hook("map_headers")  # type: ignore[misc]
    def unique_keys(context: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
        key = (headers or {}).get(HEADER)
        if headers is not None and isinstance(key, str) and valid_key(key):
            headers[HEADER] = f"contract-{uuid.uuid4()}"
        return headers

    return schema


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
