"""50 concurrent orders on scarce ingredients: never below zero, never over-reserved, nothing lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from tests.e2e.client import order, pantry, settled
from tests.e2e.harness import Stack
from tests.e2e.reconcile import reconcile


@pytest.mark.stack_env(WAREHOUSE_SUPPLY_DEADLINE_S="8", KITCHEN_ORDER_WAIT_S="10", MARKET_MAX_UNITS="3")
async def test_fifty_concurrent_orders_on_scarce_ingredients_keep_every_invariant(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    dishes = ["ensalada-cesar", "pollo-plancha", "sandwich-pollo", "hamburguesa", "pan-simple"]
    violations: list[str] = []
    stop = asyncio.Event()

    async def watch_invariants() -> None:
        # Sample what customers and staff see while the orders race.
        while not stop.is_set():
            for name, row in (await pantry(http, stack)).items():
                if row["on_hand"] < 0 or row["reserved"] < 0 or row["reserved"] > row["on_hand"]:
                    violations.append(f"{name}: {row}")
            await asyncio.sleep(0.05)  # sampling interval of the watcher, not a wait for a result

    watcher = asyncio.create_task(watch_invariants())
    responses = await asyncio.gather(
        *(order(http, stack, dishes[i % len(dishes)], sub=f"customer-{i % 7}") for i in range(50))
    )
    assert {r.status_code for r in responses} <= {201, 202}, [r.text for r in responses if r.status_code >= 300]
    finals = [await settled(http, stack, r.json()["order_id"], r.json()["customer_id"]) for r in responses]
    stop.set()
    await watcher
    assert violations == []
    statuses = {f["status"] for f in finals}
    assert statuses <= {"reserved", "failed"}
    assert "reserved" in statuses
    now = datetime.now(UTC)
    assert all(datetime.fromisoformat(f["expires_at"]) > now for f in finals if f["status"] == "reserved")
    # Every unit held for an order is on hand, and each order holds exactly what its dish needs.
    held = await db.fetch(
        "SELECT o.status, sum(l.reserved) = sum(l.needed) AS full, sum(l.reserved) AS held "
        "FROM kitchen.orders o JOIN kitchen.order_lines l ON l.order_id = o.id GROUP BY o.id, o.status"
    )
    assert all(r["full"] for r in held if r["status"] == "reserved")
    assert all(r["held"] == 0 for r in held if r["status"] == "failed")
    await reconcile(db)
