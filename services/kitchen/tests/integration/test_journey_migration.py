"""The migration that starts keeping journeys gives the orders placed before it the journey their
rows still tell: placed, what was asked of the warehouse and how it ended, the state they are in."""

from __future__ import annotations

import asyncio

import asyncpg

from brigade_common.migrations import upgrade
from brigade_kitchen.adapters.seed import seed
from brigade_kitchen.adapters.views import PostgresKitchenViews
from brigade_kitchen.config import MIGRATIONS_DIR, SCHEMA

ORDER = "6f1c0000-0000-4000-8000-000000000001"
REQUEST = "6f1c0000-0000-4000-8000-000000000002"


async def test_orders_from_before_the_journey_get_the_steps_their_rows_tell(database_url: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, database_url, SCHEMA, "0004")
    conn = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        await seed(conn, pantry=False)  # the dishes the order names (today's pantry rows need later columns)
        await conn.execute(
            "INSERT INTO orders (id, customer_id, dish_id, dish_name, quantity, total_cents, status, version, "
            "created_at, updated_at) VALUES ($1, 'alice', 'ensalada-cesar', 'Ensalada Cesar', 1, 850, 'reserved', 2, "
            "'2026-11-30T10:00:00Z', '2026-11-30T10:00:03Z')",
            ORDER,
        )
        await conn.execute(
            "INSERT INTO supply_requests (id, order_id, ingredient, amount, status, created_at, resolved_at) "
            "VALUES ($1, $2, 'lechuga', 1, 'delivered', '2026-11-30T10:00:00Z', '2026-11-30T10:00:03Z')",
            REQUEST,
            ORDER,
        )
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, database_url, SCHEMA)

    pool = await asyncpg.create_pool(database_url, server_settings={"search_path": SCHEMA}, min_size=1, max_size=1)
    try:
        steps = await PostgresKitchenViews(pool).journey(ORDER)
    finally:
        await pool.close()
    assert [(s.key, s.kind, s.ingredient, s.amount, s.at.isoformat()) for s in steps] == [
        ("v1", "pending", None, None, "2026-11-30T10:00:00+00:00"),
        (f"requested:{REQUEST}", "requested", "lechuga", 1, "2026-11-30T10:00:00+00:00"),
        (f"delivered:{REQUEST}", "delivered", "lechuga", 1, "2026-11-30T10:00:03+00:00"),
        ("v2", "reserved", None, None, "2026-11-30T10:00:03+00:00"),
    ]
