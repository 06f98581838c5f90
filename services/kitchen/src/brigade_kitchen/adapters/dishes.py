"""Dishes and their recipes in PostgreSQL (`dishes`, `dish_ingredients`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from brigade_kitchen.domain.model import Dish

_DISHES = (
    "SELECT d.id, d.name, d.description, d.image_url, d.price_cents, d.version, "
    "coalesce(jsonb_object_agg(i.ingredient, i.amount) FILTER (WHERE i.ingredient IS NOT NULL), "
    "'{}'::jsonb) AS recipe "
    "FROM dishes d LEFT JOIN dish_ingredients i ON i.dish_id = d.id "
    "WHERE $1::text[] IS NULL OR d.id = ANY($1::text[]) "
    "GROUP BY d.id ORDER BY d.name"
)


class Fetches(Protocol):
    async def fetch(self, query: str, *args: Any) -> list[Any]: ...


async def fetch_dishes(db: Fetches, ids: Sequence[str] | None = None) -> list[Dish]:
    """The dishes with these ids (every dish when None), by name."""
    rows = await db.fetch(_DISHES, list(ids) if ids is not None else None)
    return [Dish(**dict(r)) for r in rows]


class PostgresDishes:
    def __init__(self, db: Fetches) -> None:
        self._db = db

    async def get(self, dish_id: str) -> Dish | None:
        found = await fetch_dishes(self._db, [dish_id])
        return found[0] if found else None
