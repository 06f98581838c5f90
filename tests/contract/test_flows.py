"""The kitchen's operations chained the way clients use them, along the links schemathesis infers
(an order placed, then read, listed and cancelled; a dish listed, then read and ordered).

The checks about state have something to look at here: `ensure_resource_availability` (an order
just placed can be read back), `use_after_free`, and `object_level_authorization`: two customers
place orders, and each order one of them reads is requested again as the other, who must not get it.

A state machine must meet the same answers for the same requests: Hypothesis replays the start of a
scenario to explore from it, and refuses a run whose answers changed meanwhile
(FlakyStrategyDefinition). So every scenario starts from the same kitchen: no orders, and a pantry
deep enough that every order is covered at once (201, no warehouse: nothing settles in the
background).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import schemathesis

from tests.contract import identities, settings
from tests.contract.documents import declared
from tests.contract.schemas import fresh_idempotency_keys
from tests.e2e.harness import Stack

DEEP = 1_000_000


async def _deepen_the_pantry(database_url: str) -> None:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "kitchen"})
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO pantry_movements (ingredient, delta, reason) SELECT ingredient, $1, 'seed' FROM pantry",
                DEEP,
            )
            await conn.execute("UPDATE pantry SET on_hand = on_hand + $1", DEEP)
    finally:
        await conn.close()


async def _no_orders(database_url: str) -> None:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "kitchen"})
    try:
        async with conn.transaction():
            await conn.execute("TRUNCATE order_steps, order_lines, supply_requests, orders, idempotency_keys")
            await conn.execute("UPDATE pantry SET reserved = 0")
    finally:
        await conn.close()


def test_kitchen_flows(kitchen_alone: Stack, tmp_path: Path) -> None:
    peers = identities.write_peers(tmp_path / "peers.json")
    schema = fresh_idempotency_keys(
        schemathesis.openapi.from_dict(declared()["kitchen"], config=settings.config(peers=peers))
    )
    base_url = kitchen_alone.url("kitchen")
    database_url = kitchen_alone.database_url
    asyncio.run(_deepen_the_pantry(database_url))

    class KitchenFlows(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            asyncio.run(_no_orders(database_url))

        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"base_url": base_url}

    KitchenFlows.run(settings=settings.stateful(schema))
