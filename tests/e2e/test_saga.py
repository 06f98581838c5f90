"""Seed 000's story, end to end through real processes: kitchen → warehouse → market → kitchen."""

from __future__ import annotations

import asyncpg
import httpx

from tests.e2e.harness import Stack, eventually
from tests.e2e.reconcile import reconcile


async def order(http: httpx.AsyncClient, stack: Stack, dish_id: str, quantity: int = 1,
                sub: str = "customer-demo", key: str | None = None) -> httpx.Response:
    headers = stack.auth(sub)
    if key:
        headers["Idempotency-Key"] = key
    return await http.post(f"{stack.url('kitchen')}/api/kitchen/orders",
                           json={"dish_id": dish_id, "quantity": quantity}, headers=headers)


async def settled(http: httpx.AsyncClient, stack: Stack, order_id: str, sub: str = "customer-demo") -> dict:
    async def done() -> dict | None:
        r = await http.get(f"{stack.url('kitchen')}/api/kitchen/orders/{order_id}", headers=stack.auth(sub))
        body = r.json()
        return body if body["status"] != "pending" else None

    result: dict = await eventually(done, 30, f"order {order_id} settled")
    return result


async def pantry(http: httpx.AsyncClient, stack: Stack) -> dict[str, dict]:
    r = await http.get(f"{stack.url('kitchen')}/api/kitchen/pantry")
    return {row["ingredient"]: row for row in r.json()}


async def test_seed_000_story_first_from_the_warehouse_then_from_the_market(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    # Pantry has lechuga 4, the salad needs 5: the warehouse (lechuga 2) sends the missing one.
    first = await order(http, stack, "ensalada-cesar")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "reserved"
    stock = {r["ingredient"]: r["on_hand"] for r in (await http.get(f"{stack.url('warehouse')}/api/warehouse/stock")).json()}
    assert stock["lechuga"] == 1
    p = await pantry(http, stack)
    assert p["lechuga"] == {"ingredient": "lechuga", "on_hand": 5, "reserved": 5, "available": 0}
    purchases = (await http.get(f"{stack.url('warehouse')}/api/warehouse/purchases")).json()["items"]
    assert purchases == []

    # The next salad needs 5 lechuga and 2 pollo more: the warehouse must buy lechuga from the market.
    second = await order(http, stack, "ensalada-cesar")
    assert second.status_code in (201, 202), second.text
    body = second.json() if second.json()["status"] != "pending" else await settled(http, stack, second.json()["order_id"])
    assert body["status"] == "reserved"
    purchases = (await http.get(f"{stack.url('warehouse')}/api/warehouse/purchases")).json()["items"]
    assert purchases and {p["ingredient"] for p in purchases} == {"lechuga"}
    assert all(0 <= p["received"] <= 10 and p["supplier"] for p in purchases)
    p = await pantry(http, stack)
    assert p["lechuga"]["reserved"] == 10 and p["pollo"]["reserved"] == 4

    totals = await reconcile(db)
    assert totals["inflow"] == 1 + 5 + 2
