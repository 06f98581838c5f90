"""A request that must buy holds what it found on hand, on real PostgreSQL and NATS and a real (slow)
market: a request that comes while it is at the market does not take those units, it buys its own."""

from __future__ import annotations

import pytest

from brigade_contracts import warehouse as w
from services.warehouse.tests.integration.harness import (
    WarehouseClient,
    check_invariants,
    command,
    eventually,
    market,
    purchases_for,
)


@pytest.mark.parametrize(
    "warehouse_settings",
    [{"supply_deadline_s": 20.0, "market_timeout_s": 10.0, "market_retry_s": 0.05}],  # the market is slow here
)
async def test_what_a_buying_request_found_on_hand_is_not_taken_by_one_that_comes_meanwhile(
    warehouse: WarehouseClient, nats_url: str
) -> None:
    buyer, newcomer = command("lechuga", 5), command("lechuga", 2)  # lechuga 2 in stock
    async with market(nats_url, seed=7, max_units=1000, latency_ms=2000):  # the buyer's call takes 2 s
        await warehouse.send(buyer)

        async def holding() -> bool:
            held = await warehouse.db.fetchval(
                "SELECT held FROM supply_requests WHERE id = $1::uuid", buyer["request_id"]
            )
            return held == 2

        await eventually(holding, 15, "the buyer holding the 2 it found, its market call under way")
        # Still on hand, all of it held: what the staff's stock page shows.
        shown = {s["ingredient"]: s for s in (await warehouse.http.get("/api/warehouse/stock")).json()}
        assert (shown["lechuga"]["on_hand"], shown["lechuga"]["reserved"]) == (2, 2)
        await warehouse.send(newcomer)

        async def newcomer_at_the_market() -> bool:
            return await warehouse.request_status(newcomer["request_id"]) == "open"

        # The 2 on hand would cover the newcomer; they are the buyer's, so it must buy its own.
        await eventually(newcomer_at_the_market, 15, "the newcomer's request open, buying")
        assert await warehouse.request_status(buyer["request_id"]) == "open"  # both at the market at once
        outcomes = [await warehouse.outcome(cmd["request_id"]) for cmd in (buyer, newcomer)]
        await check_invariants(warehouse)

    assert [(subject, payload["amount"]) for subject, payload in outcomes] == [
        (w.SUPPLY_DELIVERED, 5),
        (w.SUPPLY_DELIVERED, 2),
    ]
    # The buyer asked only for the 3 it missed, once; the newcomer for its own 2.
    assert [(p["requested"], p["received"]) for p in await purchases_for(warehouse, buyer["request_id"])] == [(3, 3)]
    assert [(p["requested"], p["received"]) for p in await purchases_for(warehouse, newcomer["request_id"])] == [(2, 2)]
    assert (await warehouse.stock())["lechuga"] == 0
