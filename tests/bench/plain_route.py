"""The plain implementation of the hot path, as a yardstick: one Starlette route under uvicorn.

`POST /orders {dish_id, quantity}` in one transaction: insert the order, lock the dish's pantry rows
(`SELECT … FOR UPDATE`, sorted), raise `reserved`, insert the order lines, commit. Nothing else: no
auth, no idempotency, no outbox, no events. Run by the bench as `python -m tests.bench.plain_route`
with PLAIN_DATABASE_URL, PLAIN_PORT, PLAIN_POOL_SIZE and PLAIN_RECIPES (JSON: dish → recipe).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS plain;
CREATE TABLE plain.pantry (
    ingredient text PRIMARY KEY,
    on_hand    bigint NOT NULL DEFAULT 0,
    reserved   bigint NOT NULL DEFAULT 0 CHECK (reserved <= on_hand)
);
CREATE TABLE plain.orders (
    id         uuid PRIMARY KEY,
    dish_id    text NOT NULL,
    quantity   integer NOT NULL,
    status     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE plain.order_lines (
    order_id   uuid NOT NULL REFERENCES plain.orders (id),
    ingredient text NOT NULL,
    needed     bigint NOT NULL,
    reserved   bigint NOT NULL,
    PRIMARY KEY (order_id, ingredient)
);
"""


async def prepare(database_url: str, stock: Mapping[str, int]) -> None:
    """Create the plain schema and stock its pantry."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(SCHEMA)
        await conn.executemany("INSERT INTO plain.pantry (ingredient, on_hand) VALUES ($1, $2)", sorted(stock.items()))
    finally:
        await conn.close()


def create_app(database_url: str, pool_size: int, recipes: Mapping[str, Mapping[str, int]]) -> Starlette:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(
            database_url, min_size=pool_size, max_size=pool_size, server_settings={"search_path": "plain"}
        )
        try:
            yield
        finally:
            await pool.close()

    async def place(request: Request) -> Response:
        body = await request.json()
        recipe = recipes.get(body.get("dish_id"))
        quantity = body.get("quantity", 1)
        if recipe is None or not isinstance(quantity, int) or quantity < 1:
            return JSONResponse({"detail": "bad order"}, status_code=422)
        needed = {i: n * quantity for i, n in recipe.items()}
        names = sorted(needed)
        order_id = uuid.uuid4()
        assert pool is not None
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO orders (id, dish_id, quantity, status) VALUES ($1, $2, $3, 'pending')",
                order_id,
                body["dish_id"],
                quantity,
            )
            rows = await conn.fetch(
                "SELECT ingredient, on_hand, reserved FROM pantry "
                "WHERE ingredient = ANY($1::text[]) ORDER BY ingredient FOR UPDATE",
                names,
            )
            lines = []
            for row in rows:
                take = min(needed[row["ingredient"]], max(row["on_hand"] - row["reserved"], 0))
                if take:
                    await conn.execute(
                        "UPDATE pantry SET reserved = reserved + $2 WHERE ingredient = $1", row["ingredient"], take
                    )
                lines.append((order_id, row["ingredient"], needed[row["ingredient"]], take))
            await conn.executemany(
                "INSERT INTO order_lines (order_id, ingredient, needed, reserved) VALUES ($1, $2, $3, $4)", lines
            )
        return JSONResponse({"order_id": str(order_id)}, status_code=201)

    return Starlette(routes=[Route("/orders", place, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    app = create_app(
        os.environ["PLAIN_DATABASE_URL"],
        int(os.environ.get("PLAIN_POOL_SIZE", "10")),
        json.loads(os.environ["PLAIN_RECIPES"]),
    )
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PLAIN_PORT"]), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
