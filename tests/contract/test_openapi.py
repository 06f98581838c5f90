"""Every operation of every service's OpenAPI document against the running service, all checks on.

One test per operation (`test_kitchen[POST /api/kitchen/orders]`); a failure names the check, shows
the response and prints a curl line that reproduces it against a running stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis

from tests.contract import identities
from tests.contract.documents import SERVICES, declared
from tests.contract.schemas import load
from tests.e2e.harness import Stack


def _conformance(
    service: str, identity: type[identities.Bearer] = identities.CustomerToken, *, secured_only: bool = False
) -> Callable[..., None]:
    schema: schemathesis.BaseSchema = load(service, identity)
    if secured_only:
        schema = schema.include(lambda ctx: bool(ctx.operation.definition.raw.get("security")))

    @schema.parametrize()
    def test(case: schemathesis.Case[Any], contract_stack: Stack) -> None:
        # A WebSocket over plain HTTP is told to upgrade (426) however valid the request: the
        # socket's own protocol is tested by its service (and the security matrix).
        websocket = bool(case.operation.definition.raw.get("x-websocket"))
        excluded = [schemathesis.checks.positive_data_acceptance] if websocket else []
        response = case.call_and_validate(base_url=contract_stack.url(service), excluded_checks=excluded)
        if websocket and case.method == "GET":
            assert response.status_code == 426, response.text

    return test  # type: ignore[no-any-return]


# One test function per service of the catalog: `test_kitchen[POST /api/kitchen/orders]` …
for _service in SERVICES:
    globals()[f"test_{_service}"] = _conformance(_service)
# Staff may read and cancel any order: the same operations again, down the staff branches.
test_kitchen_as_staff = _conformance("kitchen", identities.StaffToken, secured_only=True)
# The user administration, down the admin branches (a customer's token gets its 403s above).
test_auth_as_admin = _conformance("auth", identities.AdminToken, secured_only=True)
# The mail queue is for staff: its routes again, past the 403 a customer gets.
test_notifications_as_staff = _conformance("notifications", identities.StaffToken, secured_only=True)


@pytest.mark.parametrize("service", SERVICES)
async def test_served_document_is_the_declared_one(service: str, contract_stack: Stack) -> None:
    """What the tests above generate from is what the running service serves."""
    async with httpx.AsyncClient(base_url=contract_stack.url(service)) as client:
        served = (await client.get(f"/api/{service}/openapi.json")).json()
    assert served == declared()[service]
