"""The invariants of DESIGN §3, checked straight from the services' schemas."""

from __future__ import annotations

import asyncpg


async def reconcile(db: asyncpg.Pool) -> dict[str, int]:
    """Assert every balance equals the sum of its ledger and warehouse outflow equals pantry inflow."""
    bad_pantry = await db.fetch(
        "SELECT p.ingredient, p.on_hand, coalesce(sum(m.delta), 0) AS ledger FROM kitchen.pantry p "
        "LEFT JOIN kitchen.pantry_movements m USING (ingredient) GROUP BY p.ingredient, p.on_hand "
        "HAVING p.on_hand <> coalesce(sum(m.delta), 0)"
    )
    assert not bad_pantry, f"pantry balances differ from their ledger: {bad_pantry}"
    bad_stock = await db.fetch(
        "SELECT s.ingredient, s.on_hand, coalesce(sum(m.delta), 0) AS ledger FROM warehouse.stock s "
        "LEFT JOIN warehouse.stock_movements m USING (ingredient) GROUP BY s.ingredient, s.on_hand "
        "HAVING s.on_hand <> coalesce(sum(m.delta), 0)"
    )
    assert not bad_stock, f"stock balances differ from their ledger: {bad_stock}"
    negative = await db.fetchval(
        "SELECT count(*) FROM kitchen.pantry WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand"
    )
    assert negative == 0
    holds = await db.fetch(
        "SELECT p.ingredient, p.reserved, coalesce(sum(l.reserved), 0) AS held FROM kitchen.pantry p "
        "LEFT JOIN kitchen.order_lines l USING (ingredient) GROUP BY p.ingredient, p.reserved "
        "HAVING p.reserved <> coalesce(sum(l.reserved), 0)"
    )
    assert not holds, f"pantry reservations differ from the orders' holds: {holds}"
    outflow = await db.fetchval(
        "SELECT coalesce(-sum(delta), 0) FROM warehouse.stock_movements WHERE reason = 'supply'"
    )
    inflow = await db.fetchval("SELECT coalesce(sum(delta), 0) FROM kitchen.pantry_movements WHERE reason = 'delivery'")
    assert outflow == inflow, f"warehouse sent {outflow} units but the pantry received {inflow}"
    per_request = await db.fetch(
        "SELECT r.id, r.amount, coalesce(-sum(m.delta), 0) AS sent FROM warehouse.supply_requests r "
        "LEFT JOIN warehouse.stock_movements m ON m.request_id = r.id AND m.reason = 'supply' "
        "GROUP BY r.id, r.amount, r.status HAVING coalesce(-sum(m.delta), 0) NOT IN (0, r.amount) "
        "OR (r.status = 'delivered') <> (coalesce(-sum(m.delta), 0) = r.amount)"
    )
    assert not per_request, f"supply requests sent the wrong amount: {per_request}"
    await reconcile_money(db)
    return {"outflow": int(outflow), "inflow": int(inflow)}


async def reconcile_money(db: asyncpg.Pool) -> None:
    """No order charged twice, and no customer pays for a dish they do not get: a charge kept
    (succeeded) is for an order served, or still reserved while its payment travels to the kitchen;
    one for an order that ended otherwise was refunded. Call it once the saga has settled."""
    twice = await db.fetch(
        "SELECT order_id, count(*) FROM payments.payments WHERE status <> 'failed' "
        "GROUP BY order_id HAVING count(*) > 1"
    )
    assert not twice, f"orders charged more than once: {twice}"
    kept = await db.fetch(
        "SELECT p.id, p.order_id, o.status FROM payments.payments p JOIN kitchen.orders o ON o.id = p.order_id "
        "WHERE p.status = 'succeeded' AND o.status NOT IN ('served', 'reserved')"
    )
    assert not kept, f"charges kept for orders that were not served: {kept}"
    refunded = await db.fetch(
        "SELECT p.id, p.order_id, o.status FROM payments.payments p JOIN kitchen.orders o ON o.id = p.order_id "
        "WHERE p.status = 'refunded' AND o.status = 'served'"
    )
    assert not refunded, f"served orders whose payment was given back: {refunded}"
    unpaid = await db.fetch(
        "SELECT o.id FROM kitchen.orders o WHERE o.status = 'served' AND NOT EXISTS "
        "(SELECT 1 FROM payments.payments p WHERE p.order_id = o.id AND p.status = 'succeeded')"
    )
    assert not unpaid, f"orders served without a payment: {unpaid}"
