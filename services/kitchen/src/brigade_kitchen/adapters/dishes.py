"""Dishes and their recipes in PostgreSQL (`dishes`, `dish_ingredients`), and their pictures
(`dish_images`, by SHA-256). A retired dish keeps its row (orders name it) but is off the menu: no
read of the menu and no order sees it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg

from brigade_common.writes import Session
from brigade_kitchen.domain.errors import DuplicateDishName
from brigade_kitchen.domain.model import Dish

_DISHES = (
    "SELECT d.id, d.name, d.description, d.image_url, d.price_cents, d.version, "
    "coalesce(jsonb_object_agg(i.ingredient, i.amount) FILTER (WHERE i.ingredient IS NOT NULL), "
    "'{}'::jsonb) AS recipe "
    "FROM dishes d LEFT JOIN dish_ingredients i ON i.dish_id = d.id "
    "WHERE d.retired_at IS NULL AND ($1::text[] IS NULL OR d.id = ANY($1::text[])) "
    "GROUP BY d.id ORDER BY d.name"
)
_ACTIVE_NAME = "dishes_active_name"


class Fetches(Protocol):
    async def fetch(self, query: str, *args: Any) -> list[Any]: ...


async def fetch_dishes(db: Fetches, ids: Sequence[str] | None = None) -> list[Dish]:
    """The dishes on the menu with these ids (every one when None), by name."""
    rows = await db.fetch(_DISHES, list(ids) if ids is not None else None)
    return [Dish(**dict(r)) for r in rows]


class PostgresDishes:
    def __init__(self, db: Session) -> None:
        self._db = db

    async def get(self, dish_id: str) -> Dish | None:
        # One statement: the dish and its recipe as of one snapshot, so an order takes the recipe
        # and price of one version even while staff change the dish.
        found = await fetch_dishes(self._db, [dish_id])
        return found[0] if found else None

    async def lock(self, dish_id: str) -> Dish | None:
        locked = await self._db.fetchval(
            "SELECT id FROM dishes WHERE id = $1 AND retired_at IS NULL FOR UPDATE", dish_id
        )
        return await self.get(dish_id) if locked else None

    async def free_id(self, wanted: str) -> str:
        # Two dishes named alike at once: the second waits here for the first to commit, then sees
        # its id (and its name, which the unique index then refuses as a duplicate, not a crash).
        await self._db.execute("SELECT pg_advisory_xact_lock(hashtextextended('kitchen.dish_id:' || $1, 0))", wanted)
        rows = await self._db.fetch("SELECT id FROM dishes WHERE id = $1 OR id LIKE $1 || '-%'", wanted)
        taken = {r["id"] for r in rows}
        n = 1
        candidate = wanted
        while candidate in taken:
            n += 1
            candidate = f"{wanted}-{n}"
        return candidate

    async def add(self, dish: Dish) -> None:
        await self._named(
            "INSERT INTO dishes (id, name, description, image_url, price_cents, version) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            dish,
        )
        await self._write_recipe(dish)

    async def save(self, dish: Dish) -> None:
        await self._named(
            "UPDATE dishes SET name = $2, description = $3, image_url = $4, price_cents = $5, version = $6, "
            "updated_at = now() WHERE id = $1",
            dish,
        )
        await self._db.execute("DELETE FROM dish_ingredients WHERE dish_id = $1", dish.id)
        await self._write_recipe(dish)

    async def retire(self, dish: Dish) -> None:
        await self._db.execute(
            "UPDATE dishes SET retired_at = now(), updated_at = now(), version = $2 WHERE id = $1",
            dish.id,
            dish.version,
        )

    async def store_image(self, digest: str, media_type: str, data: bytes) -> None:
        await self._db.execute(
            "INSERT INTO dish_images (sha256, content_type, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            digest,
            media_type,
            data,
        )

    async def _named(self, statement: str, dish: Dish) -> None:
        try:
            await self._db.execute(
                statement, dish.id, dish.name, dish.description, dish.image_url, dish.price_cents, dish.version
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == _ACTIVE_NAME:
                raise DuplicateDishName(dish.name) from None
            raise

    async def _write_recipe(self, dish: Dish) -> None:
        await self._db.execute(
            "INSERT INTO dish_ingredients (dish_id, ingredient, amount) "
            "SELECT $1, i, a FROM unnest($2::text[], $3::int[]) AS r (i, a)",
            dish.id,
            list(dish.recipe),
            list(dish.recipe.values()),
        )
