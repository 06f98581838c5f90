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
