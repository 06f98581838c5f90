"""Idempotent seeding: dishes are upserted by id; the pantry is stocked only while its ledger is empty."""

from __future__ import annotations

import asyncpg

from brigade_kitchen.seed_data import DISHES, PANTRY


async def seed(conn: asyncpg.Connection, *, dishes: bool = True, pantry: bool = True) -> None:
    async with conn.transaction():
        if dishes:
            for dish_id, name, description, price, recipe in DISHES:
                inserted = await conn.fetchval(
                    "INSERT INTO dishes (id, name, description, image_url, price_cents) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
                    dish_id,
                    name,
                    description,
                    f"/images/{dish_id}.svg",
                    price,
                )
                if inserted:
                    await conn.executemany(
                        "INSERT INTO dish_ingredients (dish_id, ingredient, amount) VALUES ($1, $2, $3)",
                        [(dish_id, ing, amount) for ing, amount in recipe.items()],
                    )
        if pantry and not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pantry_movements)"):
            for ingredient, amount in sorted(PANTRY.items()):
                await conn.execute(
                    "INSERT INTO pantry (ingredient, on_hand, version) VALUES ($1, $2, 1) "
                    "ON CONFLICT (ingredient) DO UPDATE "
                    "SET on_hand = pantry.on_hand + $2, version = pantry.version + 1",
                    ingredient,
                    amount,
                )
                await conn.execute(
                    "INSERT INTO pantry_movements (ingredient, delta, reason) VALUES ($1, $2, 'seed')",
                    ingredient,
                    amount,
                )
