"""The menu read through a JetStream KV cache: each dish by id, and the ids of the dishes on the menu
(today's pick is made from them), before PostgreSQL.

What the cache holds is always a whole row as PostgreSQL gave it (a write never puts anything there),
so a partial update cannot land in it. The dish events the kitchen's outbox sends delete the entries
they change (`forget`, from the `kitchen-menu-cache` consumer), and every kitchen process watches the
bucket (brigade_common.kv_cache).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any

import asyncpg
import nats.errors
from prometheus_client import Counter

from brigade_common.kv_cache import Codec, ReadThroughCache
from brigade_kitchen.adapters.views import PostgresKitchenViews
from brigade_kitchen.domain.model import Dish

MENU_IDS = "menu.ids"
# What a KV key may hold; a dish id outside it (none the kitchen makes) is read from PostgreSQL.
_KEY = re.compile(r"^[-a-z0-9_]{1,64}$")

# In the kitchen's /metrics: what answered each read of the menu (the hit rate is local + bucket over
# local + bucket + source; degraded reads went to PostgreSQL because NATS was away).
READS = Counter(
    "kitchen_menu_cache_reads_total",
    "Menu reads through the cache, by what answered: this process's copy, the KV bucket, PostgreSQL on a "
    "miss (source), PostgreSQL while the cache is unavailable (degraded).",
    ["answered_by"],
)
for _answered_by in ("local", "bucket", "source", "degraded"):
    READS.labels(answered_by=_answered_by)


def count_read(answered_by: str) -> None:
    READS.labels(answered_by=answered_by).inc()


CODEC: Codec[Any] = Codec(lambda value: json.dumps(value, separators=(",", ":")).encode(), json.loads)


def dish_key(dish_id: str) -> str | None:
    return f"dish.{dish_id}" if _KEY.match(dish_id) else None


def _as_json(dish: Dish) -> dict[str, Any]:
    return {**dataclasses.asdict(dish), "recipe": dict(dish.recipe)}


class CachedKitchenViews(PostgresKitchenViews):
    """The kitchen's read side, with the menu's reads going through `cache` first."""

    def __init__(self, pool: asyncpg.Pool, cache: ReadThroughCache[Any]) -> None:
        super().__init__(pool)
        self._cache = cache

    async def dishes(self, ids: Sequence[str] | None = None) -> list[Dish]:
        if ids is None:  # the whole list, staff's page: always fresh
            return await super().dishes(None)
        found = await asyncio.gather(*(self._dish(i) for i in dict.fromkeys(ids)))
        return sorted((d for d in found if d is not None), key=lambda d: d.name)

    async def dish_ids(self) -> list[str]:
        ids = await self._cache.get(MENU_IDS, super().dish_ids)
        return list(ids or [])

    async def _dish(self, dish_id: str) -> Dish | None:
        read = super().dishes

        async def load() -> dict[str, Any] | None:
            found = await read([dish_id])
            return _as_json(found[0]) if found else None

        key = dish_key(dish_id)
        row = await self._cache.get(key, load) if key else await load()
        return Dish(**row) if row else None


class KvMenuCache:
    """What a change of a dish must forget: its own entry and the menu's ids."""

    def __init__(self, cache: ReadThroughCache[Any]) -> None:
        self._cache = cache

    async def forget(self, dish_id: str) -> None:
        key = dish_key(dish_id)
        await self._cache.invalidate(*([key] if key else []), MENU_IDS)

    async def try_forget(self, dish_id: str) -> bool:
        try:
            await self.forget(dish_id)
        except (nats.errors.Error, TimeoutError):
            return False
        return True
