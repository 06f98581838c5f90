"""Seed 000's warehouse stock (lechuga 2, pollo 4), only while the ledger is empty."""

from __future__ import annotations

import asyncpg

STOCK = {"lechuga": 2, "pollo": 4}


async def seed(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM stock_movements)"):
            return
        for ingredient, amount in sorted(STOCK.items()):
            await conn.execute(
                "INSERT INTO stock (ingredient, on_hand, version) VALUES ($1, $2, 1) "
                "ON CONFLICT (ingredient) DO UPDATE SET on_hand = stock.on_hand + $2, version = stock.version + 1",
                ingredient,
                amount,
            )
            await conn.execute(
                "INSERT INTO stock_movements (ingredient, delta, reason) VALUES ($1, $2, 'seed')",
                ingredient,
                amount,
            )
