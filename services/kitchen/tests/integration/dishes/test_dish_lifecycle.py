"""A dish's life after it is written: retired (its orders keep their name and price), ordered by the
version a customer saw, given a picture (checked, kept by its digest, served safely), and written by
several staff at once (one wins). Real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from services.kitchen.tests.integration.dishes.dishes_api import (
    DISHES,
    MERGE,
    NEW,
    create,
    outbox,
    png,
    read,
    staff,
)
from services.kitchen.tests.integration.harness import KitchenClient

# ------------------------------------------------------------------------------------------ retiring


async def test_a_retired_dish_leaves_the_menu_but_its_orders_keep_their_name_and_price(kitchen: KitchenClient) -> None:
    """Seed 003: a delete left orders pointing at nothing."""
    placed = await kitchen.http.post(
        "/api/kitchen/orders", json={"dish_id": "pan-simple", "quantity": 2}, headers=kitchen.auth()
    )
    assert placed.status_code == 201, placed.text
    r = await kitchen.http.delete(f"{DISHES}/pan-simple", headers=staff(kitchen, **{"If-Match": '"1"'}))
    assert r.status_code == 204, r.text
    assert (await read(kitchen, "pan-simple"))[0] == 404
    assert "pan-simple" not in {d["id"] for d in (await kitchen.http.get(DISHES)).json()}
    assert "pan-simple" not in {d["id"] for d in (await kitchen.http.get(f"{DISHES}/today")).json()}
    order = await kitchen.http.get(f"/api/kitchen/orders/{placed.json()['order_id']}", headers=kitchen.auth())
    assert (order.json()["dish_id"], order.json()["dish_name"], order.json()["total_cents"]) == (
        "pan-simple",
        "Pan simple",
        900,
    )
    assert await kitchen.db.fetchval("SELECT count(*) FROM dish_ingredients WHERE dish_id = 'pan-simple'") == 5
    again = await kitchen.http.post(
        "/api/kitchen/orders", json={"dish_id": "pan-simple", "quantity": 1}, headers=kitchen.auth()
    )
    assert again.status_code == 404, again.text
    assert [e["field"] for e in again.json()["errors"]] == ["dish_id"]
    twice = await kitchen.http.delete(f"{DISHES}/pan-simple", headers=staff(kitchen, **{"If-Match": '"2"'}))
    assert twice.status_code == 404
    [retired] = await outbox(kitchen)
    assert (retired.type, retired.data["dish_id"], retired.data["version"]) == (
        "kitchen.dish.retired.v1",
        "pan-simple",
        2,
    )


async def test_todays_menu_fills_up_again_when_a_dish_of_it_is_retired(kitchen: KitchenClient) -> None:
    today = [d["id"] for d in (await kitchen.http.get(f"{DISHES}/today")).json()]
    gone = today[0]
    await kitchen.http.delete(f"{DISHES}/{gone}", headers=staff(kitchen, **{"If-Match": '"1"'}))
    after = [d["id"] for d in (await kitchen.http.get(f"{DISHES}/today")).json()]
    assert gone not in after and len(after) == len(today)


# ------------------------------------------------------------------------------- orders and versions


async def test_an_order_naming_the_version_it_saw_is_refused_once_the_dish_changed(kitchen: KitchenClient) -> None:
    """Decision: an order that says which version it saw (dish_version) is refused with 409 when the
    dish changed since; one that does not takes the dish as it is when it is placed (one snapshot:
    the recipe and the price of one version)."""
    await kitchen.http.patch(
        f"{DISHES}/pan-simple", content=b'{"price_cents": 600}', headers=staff(kitchen, **MERGE, **{"If-Match": '"1"'})
    )
    order = {"dish_id": "pan-simple", "quantity": 1}
    stale = await kitchen.http.post("/api/kitchen/orders", json={**order, "dish_version": 1}, headers=kitchen.auth())
    assert stale.status_code == 409, stale.text
    assert stale.json()["type"].endswith("/dish-version-changed")
    assert ([e["field"] for e in stale.json()["errors"]], stale.json()["current_version"]) == (["dish_version"], 2)
    fresh = await kitchen.http.post("/api/kitchen/orders", json={**order, "dish_version": 2}, headers=kitchen.auth())
    assert (fresh.status_code, fresh.json()["total_cents"]) == (201, 600)
    unsaid = await kitchen.http.post("/api/kitchen/orders", json=order, headers=kitchen.auth())
    assert (unsaid.status_code, unsaid.json()["total_cents"]) == (201, 600)


# ------------------------------------------------------------------------------------------ pictures


async def test_a_picture_is_checked_kept_by_its_digest_and_served_safely(kitchen: KitchenClient) -> None:
    dish = await create(kitchen)
    picture = png(2, 2)
    r = await kitchen.http.put(
        f"{DISHES}/{dish['id']}/image",
        content=picture,
        headers=staff(kitchen, **{"If-Match": '"1"', "content-type": "image/png"}),
    )
    assert r.status_code == 200, r.text
    digest = hashlib.sha256(picture).hexdigest()
    assert (r.json()["image_url"], r.json()["version"]) == (f"/api/kitchen/images/{digest}", 2)
    served = await kitchen.http.get(r.json()["image_url"])
    assert served.status_code == 200
    assert served.content == picture
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert (await kitchen.http.get(f"/api/kitchen/images/{'0' * 64}")).status_code == 404
    assert (await kitchen.http.get("/api/kitchen/images/..%2F..%2Fetc%2Fpasswd")).status_code == 404


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml", 415),
        (b"<html><script>alert(1)</script></html>", "image/png", 422),
        (png(), "image/jpeg", 422),
        (png(), "text/html", 415),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (1024 * 1024), "image/png", 413),
    ],
)
async def test_a_picture_that_is_not_what_it_says_or_too_big_is_refused(
    kitchen: KitchenClient, content: bytes, content_type: str, status: int
) -> None:
    r = await kitchen.http.put(
        f"{DISHES}/pan-simple/image",
        content=content,
        headers=staff(kitchen, **{"If-Match": '"1"', "content-type": content_type}),
    )
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["field"] in ("body", "content-type")
    assert await kitchen.db.fetchval("SELECT count(*) FROM dish_images") == 0
    assert (await read(kitchen, "pan-simple"))[1]["version"] == 1


# ------------------------------------------------------------------------------------- concurrency


async def test_of_writes_racing_on_one_version_exactly_one_wins_and_the_rest_are_412(kitchen: KitchenClient) -> None:
    async def patch(price: int) -> int:
        r = await kitchen.http.patch(
            f"{DISHES}/hamburguesa",
            content=f'{{"price_cents": {price}}}'.encode(),
            headers=staff(kitchen, **MERGE, **{"If-Match": '"1"'}),
        )
        return r.status_code

    statuses = await asyncio.gather(*(patch(1300 + i) for i in range(6)))
    assert sorted(statuses) == [200] + [412] * 5
    _, dish, _ = await read(kitchen, "hamburguesa")
    assert dish["version"] == 2 and 1300 <= dish["price_cents"] < 1306
    assert [e.data["version"] for e in await outbox(kitchen)] == [2]


async def test_two_dishes_of_one_name_added_at_once_give_one_dish_and_a_409(kitchen: KitchenClient) -> None:
    answers = await asyncio.gather(*(kitchen.http.post(DISHES, json=NEW, headers=kitchen.staff()) for _ in range(4)))
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409]
    named = [d for d in (await kitchen.http.get(DISHES)).json() if d["name"] == NEW["name"]]
    assert len(named) == 1
