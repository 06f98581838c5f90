"""Which pantry rows a new order locks, on real PostgreSQL: those it may hold something of, and only
those, even when another transaction changes a row while the order waits for it."""

from __future__ import annotations

import asyncio

from services.kitchen.tests.integration.harness import KitchenClient
from services.kitchen.tests.integration.test_deliveries import blocked_on_locks

ORDERS = "/api/kitchen/orders"


async def _supply(kitchen: KitchenClient, order_id: str) -> list[tuple[str, int]]:
    rows = await kitchen.db.fetch("SELECT ingredient, amount FROM supply_requests WHERE order_id = $1::uuid", order_id)
    return sorted((r["ingredient"], r["amount"]) for r in rows)


async def test_an_order_for_what_the_pantry_has_none_of_does_not_wait_on_those_rows(kitchen: KitchenClient) -> None:
    """Orders placed while the pantry has nothing of their ingredients only read those rows: a
    delivery holding them (here, a transaction that locked them) does not hold the orders up."""
    first = await kitchen.http.post(ORDERS, json={"dish_id": "ensalada-cesar", "quantity": 2}, headers=kitchen.auth())
    assert first.json()["status"] == "pending"  # it holds all there was: lechuga 4, pollo 2
    async with kitchen.db.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM pantry WHERE ingredient IN ('lechuga', 'pollo') FOR UPDATE")
        # Bounded, not timed: before, the order waited on those rows until this transaction ended.
        placed = await asyncio.wait_for(
            kitchen.http.post(ORDERS, json={"dish_id": "ensalada-cesar"}, headers=kitchen.auth()), 10
        )
        await tx.rollback()
    order = placed.json()
    assert placed.status_code == 202 and order["status"] == "pending"
    assert await _supply(kitchen, order["order_id"]) == [("lechuga", 5), ("pollo", 2)]  # all of it asked for
    pantry = await kitchen.pantry()
    assert (pantry["lechuga"]["on_hand"], pantry["lechuga"]["reserved"]) == (4, 4)  # the first order's holds
    assert (pantry["pollo"]["on_hand"], pantry["pollo"]["reserved"]) == (2, 2)


async def test_a_row_emptied_while_the_order_waited_for_it_is_read_again_locked(kitchen: KitchenClient) -> None:
    """The order saw pollo available and waited for its row; the transaction ahead took all of it.
    The order holds none of it, asks the warehouse for it, and holds the lechuga it could."""
    async with kitchen.db.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("UPDATE pantry SET reserved = on_hand, version = version + 1 WHERE ingredient = 'pollo'")
        placing = asyncio.create_task(
            kitchen.http.post(ORDERS, json={"dish_id": "ensalada-cesar"}, headers=kitchen.auth())
        )
        await blocked_on_locks(kitchen.db, 1)
        await tx.commit()
    placed = await placing
    order = placed.json()
    assert placed.status_code == 202 and order["status"] == "pending"
    assert await _supply(kitchen, order["order_id"]) == [("lechuga", 1), ("pollo", 2)]
    lines = await kitchen.db.fetch(
        "SELECT ingredient, reserved FROM order_lines WHERE order_id = $1::uuid ORDER BY ingredient", order["order_id"]
    )
    assert [(r["ingredient"], r["reserved"]) for r in lines] == [("lechuga", 4), ("pollo", 0)]
    pantry = await kitchen.pantry()
    assert (pantry["lechuga"]["on_hand"], pantry["lechuga"]["reserved"]) == (4, 4)
    assert (pantry["pollo"]["on_hand"], pantry["pollo"]["reserved"]) == (2, 2)  # the other's, not doubled
