"""The menu read through the JetStream KV cache, against real PostgreSQL and NATS: a cached read does
not touch PostgreSQL, a change made through one kitchen is seen by another, the cache holds whole
rows only, and without NATS every read comes from PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import nats.js.errors
import pytest

from brigade_common.devservers import NatsServer
from brigade_common.testing.inprocess import in_process
from brigade_common.testing.waiting import eventually
from brigade_kitchen.bootstrap import create_app
from brigade_kitchen.config import MENU_BUCKET as BUCKET
from brigade_kitchen.config import SCHEMA, Settings
from services.kitchen.tests.integration.harness import KitchenClient

DISHES = "/api/kitchen/dishes"
MERGE = {"content-type": "application/merge-patch+json"}


@pytest.fixture
async def second(kitchen: KitchenClient, database_url: str, nats_url: str) -> AsyncIterator[KitchenClient]:
    """Another kitchen on the same database and NATS: its own app, connections and cache."""
    settings = Settings(
        database_url=database_url,  # type: ignore[arg-type]
        nats_url=nats_url,
        jwt_public_keys=kitchen.keys.jwks,
        order_wait_s=0.5,
    )
    async with in_process(create_app(settings), "http://kitchen-2", database_url, nats_url, SCHEMA) as app:
        yield KitchenClient(app, kitchen.keys)


async def dish(k: KitchenClient, dish_id: str) -> dict[str, Any]:
    r = await k.http.get(f"{DISHES}/{dish_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def today(k: KitchenClient) -> list[dict[str, Any]]:
    r = await k.http.get(f"{DISHES}/today")
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = r.json()
    return body


async def patch(k: KitchenClient, dish_id: str, body: bytes, version: int) -> dict[str, Any]:
    headers = {**k.staff(), **MERGE, "If-Match": f'"{version}"'}
    r = await k.http.patch(f"{DISHES}/{dish_id}", content=body, headers=headers)
    assert r.status_code == 200, r.text
    changed: dict[str, Any] = r.json()
    return changed


async def test_a_cached_menu_answers_while_postgresql_could_not_give_it(kitchen: KitchenClient) -> None:
    menu = await today(kitchen)
    first = await dish(kitchen, menu[0]["id"])
    # Nothing can read the dishes while this lock is held: what still answers came from the cache.
    async with kitchen.db.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE dishes, dish_ingredients IN ACCESS EXCLUSIVE MODE")
        assert await asyncio.wait_for(today(kitchen), 10) == menu
        assert await asyncio.wait_for(dish(kitchen, first["id"]), 10) == first


async def test_a_change_made_through_one_kitchen_is_read_from_another(
    kitchen: KitchenClient, second: KitchenClient
) -> None:
    before = await dish(second, "ensalada-cesar")
    assert before == await dish(kitchen, "ensalada-cesar")
    changed = await patch(kitchen, "ensalada-cesar", b'{"price_cents": 990}', before["version"])
    assert changed["version"] == before["version"] + 1

    async def second_reads_the_change() -> bool:
        return await dish(second, "ensalada-cesar") == changed

    await eventually(second_reads_the_change, 10, "the second kitchen reads the new version")
    assert await dish(kitchen, "ensalada-cesar") == changed


async def test_the_cache_only_ever_holds_a_whole_dish(kitchen: KitchenClient) -> None:
    """Seed 003: a partial update zeroed the omitted fields and cached the partial body."""
    before = await dish(kitchen, "ensalada-cesar")
    changed = await patch(kitchen, "ensalada-cesar", b'{"price_cents": 990}', before["version"])
    assert {**before, "price_cents": 990, "version": before["version"] + 1} == changed

    async def cached() -> dict[str, Any] | None:
        await dish(kitchen, "ensalada-cesar")
        kv = await kitchen.app.nc.jetstream().key_value(BUCKET)
        try:
            entry = json.loads((await kv.get("dish.ensalada-cesar")).value or b"{}")
        except nats.js.errors.KeyNotFoundError:  # the dish event's invalidation came after this read
            return None
        return entry if entry.get("version") == changed["version"] else None

    entry = await eventually(cached, 10, "the new version cached")
    assert entry["name"] == before["name"] and entry["description"] == before["description"]
    assert entry["price_cents"] == 990
    assert entry["recipe"] == before["ingredients"]


async def test_a_retired_dish_leaves_the_cached_menu_of_every_kitchen(
    kitchen: KitchenClient, second: KitchenClient
) -> None:
    menu = await today(second)
    gone = menu[0]
    await dish(second, gone["id"])
    r = await kitchen.http.delete(
        f"{DISHES}/{gone['id']}", headers={**kitchen.staff(), "If-Match": f'"{gone["version"]}"'}
    )
    assert r.status_code == 204, r.text

    async def off_the_second_menu() -> bool:
        found = await second.http.get(f"{DISHES}/{gone['id']}")
        return found.status_code == 404 and gone["id"] not in {d["id"] for d in await today(second)}

    await eventually(off_the_second_menu, 10, "the retired dish off the second kitchen's menu")


async def test_without_nats_every_read_comes_from_postgresql(
    kitchen: KitchenClient, nats_server: NatsServer, database_url: str
) -> None:
    before = await dish(kitchen, "ensalada-cesar")
    nats_server.kill()
    await eventually(lambda: not kitchen.app.nc.is_connected, 10, "NATS gone")
    # A change the cache can hear nothing of (no event goes out without NATS) is read at once.
    conn = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        await conn.execute("UPDATE dishes SET price_cents = 1234, version = version + 1 WHERE id = 'ensalada-cesar'")
    finally:
        await conn.close()
    after = await asyncio.wait_for(dish(kitchen, "ensalada-cesar"), 10)
    assert after == {**before, "price_cents": 1234, "version": before["version"] + 1}
    assert len(await asyncio.wait_for(today(kitchen), 10)) > 0
    nats_server.start()
    await eventually(lambda: kitchen.app.nc.is_connected, 20, "NATS back")


async def cache_reads(k: KitchenClient) -> dict[str, float]:
    """`kitchen_menu_cache_reads_total` of the kitchen's /metrics, by what answered."""
    r = await k.http.get("/metrics")
    assert r.status_code == 200, r.text
    prefix = 'kitchen_menu_cache_reads_total{answered_by="'
    return {
        line[len(prefix) :].split('"', 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in r.text.splitlines()
        if line.startswith(prefix)
    }


async def test_the_metrics_say_what_answered_the_menus_reads(kitchen: KitchenClient) -> None:
    """What `make bench-menu` reads the hit rate from: a first read from PostgreSQL, the next cached."""
    before = await cache_reads(kitchen)
    assert set(before) == {"local", "bucket", "source", "degraded"}
    first = await dish(kitchen, "ensalada-cesar")
    assert await dish(kitchen, "ensalada-cesar") == first
    after = await cache_reads(kitchen)
    assert after["source"] - before["source"] >= 1
    assert (after["local"] + after["bucket"]) - (before["local"] + before["bucket"]) >= 1
    assert after["degraded"] == before["degraded"]
