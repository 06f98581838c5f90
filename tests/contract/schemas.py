"""The schemathesis schema of each service: its declared document, the shared settings, a customer."""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.contract import identities, settings
from tests.contract.documents import declared


def load(service: str, identity: type[identities.Bearer] = identities.CustomerToken) -> OpenApiSchema:
    """`service`'s schema; every request carries a token of `identity` (schemathesis takes it off, or
    spoils it, where a check needs a request without valid credentials)."""
    schema = schemathesis.openapi.from_dict(declared()[service], config=settings.config())
    schema.auth()(identity)
    return schema
