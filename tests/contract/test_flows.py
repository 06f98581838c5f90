"""The kitchen's operations chained the way clients use them, along the links schemathesis infers
(an order placed, then read, listed and cancelled; a dish listed, then read and ordered).

The checks about state have something to look at here: `ensure_resource_availability` (an order
just placed can be read back), `use_after_free`, and `object_level_authorization`: two customers
place orders, and each order one of them reads is requested again as the other, who must not get it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis

from tests.contract import identities, settings
from tests.contract.documents import declared
from tests.contract.schemas import fresh_idempotency_keys
from tests.e2e.harness import Stack


def test_kitchen_flows(fresh_stack: Stack, tmp_path: Path) -> None:
    peers = identities.write_peers(tmp_path / "peers.json")
    schema = fresh_idempotency_keys(
        schemathesis.openapi.from_dict(declared()["kitchen"], config=settings.config(peers=peers))
    )
    base_url = fresh_stack.url("kitchen")

    class KitchenFlows(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"base_url": base_url}

    KitchenFlows.run(settings=settings.stateful(schema))
