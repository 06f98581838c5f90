"""Seed 000's story, end to end through real processes: kitchen → warehouse → market → kitchen."""

from __future__ import annotations

import asyncpg
import httpx

from tests.e2e.client import order, pantry, purchases, settled, stock
from tests.e2e.harness import Stack
from tests.e2e.reconcile import reconcile


async def test_seed_000_story_first_from_the_warehouse_then_from_the_market(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    # Pantry has lechuga 4, the salad needs 5: the warehouse (lechuga 2) sends the missing one.
    first = await order(http, stack, "ensalada-cesar")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "reserved"
    assert (await stock(http, stack))["lechuga"] == 1
    p = await pantry(http, stack)
    # Its version: seeded, held (the 4 there were), delivered and held (the missing one).
    assert p["lechuga"] == {"ingredient": "lechuga", "on_hand": 5, "reserved": 5, "available": 0, "version": 3}
    bought = await purchases(http, stack)
    assert bought == []

    # The next salad needs 5 lechuga and 2 pollo more: the warehouse must buy lechuga from the market.
    second = await order(http, stack, "ensalada-cesar")
    assert second.status_code in (201, 202), second.text
    body = await settled(http, stack, second.json()["order_id"])
    assert body["status"] == "reserved"
    bought = await purchases(http, stack)
    assert bought and {p["ingredient"] for p in bought} == {"lechuga"}
    assert all(0 <= p["received"] <= 10 and p["supplier"] for p in bought)
    p = await pantry(http, stack)
    assert p["lechuga"]["reserved"] == 10 and p["pollo"]["reserved"] == 4

    totals = await reconcile(db)
    assert totals["inflow"] == 1 + 5 + 2
