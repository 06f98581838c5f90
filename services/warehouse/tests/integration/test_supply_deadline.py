"""When the market cannot help in time, the request fails cleanly: a `warehouse.supply.failed.v1` after
the supply deadline, and nothing taken from stock."""

from __future__ import annotations

import pytest

from brigade_contracts import warehouse as w
from services.warehouse.tests.integration.harness import (
    WarehouseClient,
    check_invariants,
    command,
    market,
    movements_for,
    purchases_for,
    settled,
)

DEADLINE_S = 1.5


@pytest.fixture
def warehouse_settings() -> dict[str, object]:
    return {"supply_deadline_s": DEADLINE_S, "market_timeout_s": 2.0, "market_retry_s": 0.05}


async def assert_failed_after_deadline_and_nothing_debited(wh: WarehouseClient, cmd: dict[str, object]) -> str:
    subject, payload = await wh.outcome(str(cmd["request_id"]), timeout=DEADLINE_S + 8)
    assert subject == w.SUPPLY_FAILED
    assert {k: payload[k] for k in ("request_id", "order_id", "ingredient", "amount")} == cmd
    row = await wh.db.fetchrow(
        "SELECT status, reason, deadline FROM supply_requests WHERE id = $1::uuid", cmd["request_id"]
    )
    assert row is not None and row["status"] == "failed"
    [(_, failed)] = await wh.stream(w.SUPPLY_FAILED)
    assert failed.occurred_at >= row["deadline"], "it gave up before its deadline"
    assert await wh.events(w.SUPPLY_DELIVERED) == []
    assert [m for m in await movements_for(wh, str(cmd["request_id"])) if m["reason"] == "supply"] == []
    assert await wh.stock() == {"lechuga": 2, "pollo": 4}
    reason: str = payload["reason"]
    assert reason == row["reason"]
    return reason


async def assert_failed_after_deadline_and_nothing_debited_but_purchases(
    wh: WarehouseClient, cmd: dict[str, object]
) -> str:
    """Like a failure with the market down, except what was bought stays in stock for the next request."""
    subject, payload = await wh.outcome(str(cmd["request_id"]), timeout=DEADLINE_S + 8)
    assert subject == w.SUPPLY_FAILED
    purchases = await purchases_for(wh, str(cmd["request_id"]))
    bought = sum(p["received"] for p in purchases)
    assert purchases and bought < 500
    assert (await wh.stock())["pollo"] == 4 + bought
    assert [m for m in await movements_for(wh, str(cmd["request_id"])) if m["reason"] == "supply"] == []
    reason: str = payload["reason"]
    return reason


async def test_market_down_fails_the_request_after_the_deadline(warehouse: WarehouseClient) -> None:
    cmd = command("pollo", 10)
    await warehouse.send(cmd)

    reason = await assert_failed_after_deadline_and_nothing_debited(warehouse, cmd)

    assert "market unavailable" in reason and "no responders" in reason
    assert await purchases_for(warehouse, cmd["request_id"]) == []
    await settled(warehouse)
    await check_invariants(warehouse)


async def test_a_market_slower_than_the_deadline_fails_the_request(warehouse: WarehouseClient, nats_url: str) -> None:
    cmd = command("lechuga", 5)
    async with market(nats_url, seed=1, latency_ms=int(DEADLINE_S * 1000) + 1500):
        await warehouse.send(cmd)
        reason = await assert_failed_after_deadline_and_nothing_debited(warehouse, cmd)

    assert "did not answer" in reason
    # The late answer bought nothing on the warehouse's books.
    assert await purchases_for(warehouse, cmd["request_id"]) == []
    await settled(warehouse)
    await check_invariants(warehouse)


async def test_a_market_that_never_has_enough_fails_and_keeps_what_it_bought(
    warehouse: WarehouseClient, nats_url: str
) -> None:
    cmd = command("pollo", 500)
    async with market(nats_url, seed=2, max_units=1, latency_ms=5):
        await warehouse.send(cmd)
        reason = await assert_failed_after_deadline_and_nothing_debited_but_purchases(warehouse, cmd)

    assert reason == "the market never had enough"
    await settled(warehouse)
    await check_invariants(warehouse)


async def test_a_failed_request_repeated_stays_failed(warehouse: WarehouseClient) -> None:
    cmd = command("pollo", 10)
    await warehouse.send(cmd)
    await warehouse.outcome(cmd["request_id"], timeout=DEADLINE_S + 8)
    # The kitchen re-sending the command (new envelope) does not reopen a settled request.
    await warehouse.send(cmd)
    await settled(warehouse)

    assert len(await warehouse.events(w.SUPPLY_FAILED)) == 1
    assert await warehouse.events(w.SUPPLY_DELIVERED) == []
    await check_invariants(warehouse)
