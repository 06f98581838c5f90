"""Staff manage the menu over HTTP: every write route and role, merge-patch semantics, versions
(ETag / If-Match: 412, 428), validation naming its field, pictures, retiring, and the events each
write sends through the outbox. Real PostgreSQL and NATS; the bugs of seeds 002 and 003 (roles never
checked, partial updates zeroing what they omit, orphans on delete) each have a regression here."""

from __future__ import annotations

import asyncio
import hashlib
import struct
import zlib
from typing import Any

import pytest

from brigade_common.envelope import Envelope
from services.kitchen.tests.integration.harness import KitchenClient

DISHES = "/api/kitchen/dishes"
MERGE = {"content-type": "application/merge-patch+json"}
NEW = {
    "name": "Arepa reina pepiada",
    "description": "Pollo, aguacate y mayonesa.",
    "price_cents": 750,
    "ingredients": {"harina_maiz": 2, "pollo": 1, "aguacate": 1},
}


def png(width: int = 1, height: int = 1) -> bytes:
    """A real, tiny PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def staff(k: KitchenClient, **extra: str) -> dict[str, str]:
    return {**k.staff(), **extra}


async def create(k: KitchenClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = await k.http.post(DISHES, json=body or NEW, headers=k.staff())
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == f'"{r.json()["version"]}"'
    assert r.headers["location"] == f"{DISHES}/{r.json()['id']}"
    return dict(r.json())


async def read(k: KitchenClient, dish_id: str) -> tuple[int, dict[str, Any], str | None]:
    r = await k.http.get(f"{DISHES}/{dish_id}")
    return r.status_code, r.json(), r.headers.get("etag")


@pytest.fixture(autouse=True)
async def stream_start(kitchen: KitchenClient) -> None:
    """Where the KITCHEN stream stood when the test began (the NATS server outlives one test)."""
    info = await kitchen.app.nc.jetstream().stream_info("KITCHEN")
    START[0] = info.state.last_seq


START = [0]


async def outbox(k: KitchenClient, prefix: str = "kitchen.dish.") -> list[Envelope]:
    """The dish events this test's writes sent, in order: those the relay published already and
    those still in the outbox (a write and its event commit together, so together they are all)."""
    js = k.app.nc.jetstream()
    found: dict[str, Envelope] = {}
    for row in await k.db.fetch("SELECT subject, payload FROM outbox ORDER BY seq"):
        if row["subject"].startswith(prefix):
            env = Envelope.from_bytes(row["payload"])
            found[env.id] = env
    info = await js.stream_info("KITCHEN")
    for seq in range(max(START[0] + 1, info.state.first_seq), info.state.last_seq + 1):
        msg = await js.get_msg("KITCHEN", seq)
        if msg.subject.startswith(prefix):
            env = Envelope.from_bytes(msg.data or b"")
            found.setdefault(env.id, env)
    return sorted(found.values(), key=lambda e: e.occurred_at)


# ------------------------------------------------------------------------------------ who may write


async def test_staff_add_a_dish_everyone_reads_it_with_its_etag_and_its_new_ingredient_has_a_pantry_row(
    kitchen: KitchenClient,
) -> None:
    dish = await create(kitchen)
    assert dish["id"] == "arepa-reina-pepiada"
    assert (dish["version"], dish["ingredients"], dish["image_url"]) == (1, NEW["ingredients"], None)
    status, read_back, tag = await read(kitchen, dish["id"])
    assert (status, read_back, tag) == (200, dish, '"1"')
    assert dish["id"] in {d["id"] for d in (await kitchen.http.get(DISHES)).json()}
    pantry = await kitchen.pantry()
    assert (pantry["aguacate"]["on_hand"], pantry["harina_maiz"]["on_hand"]) == (0, 0)
    assert pantry["pollo"]["on_hand"] == 2  # an ingredient it had stays as it was
    [created] = await outbox(kitchen)
    assert created.type == "kitchen.dish.created.v1"
    assert created.data == {
        "dish_id": dish["id"],
        "name": NEW["name"],
        "description": NEW["description"],
        "price_cents": 750,
        "version": 1,
        "ingredients": dict(sorted(NEW["ingredients"].items())),
    }


async def test_a_second_dish_of_a_name_that_makes_the_same_id_gets_another_id(kitchen: KitchenClient) -> None:
    first = await create(kitchen)
    await kitchen.http.delete(f"{DISHES}/{first['id']}", headers=staff(kitchen, **{"If-Match": '"1"'}))
    again = await create(kitchen)
    assert again["id"] == f"{first['id']}-2"


async def test_an_admin_may_write_too(kitchen: KitchenClient) -> None:
    r = await kitchen.http.post(DISHES, json=NEW, headers=kitchen.auth("admin-1", ("admin",)))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", DISHES, {"json": NEW}),
        ("PUT", f"{DISHES}/pan-simple", {"json": NEW}),
        ("PATCH", f"{DISHES}/pan-simple", {"content": b'{"price_cents": 1}'}),
        ("DELETE", f"{DISHES}/pan-simple", {}),
        ("PUT", f"{DISHES}/pan-simple/image", {"content": png()}),
    ],
)
async def test_a_customer_may_not_write_the_menu_and_nothing_changes(
    kitchen: KitchenClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    """Seed 002: roles were never checked, so any signed-in user wrote articles."""
    before = (await kitchen.http.get(DISHES)).json()
    headers = {**kitchen.auth(), "If-Match": '"1"', "content-type": "application/merge-patch+json"}
    r = await kitchen.http.request(method, path, headers=headers, **kwargs)
    assert r.status_code == 403, r.text
    assert r.json()["type"].endswith("/insufficient-role")
    anonymous = await kitchen.http.request(method, path, headers={"If-Match": '"1"'}, **kwargs)
    assert anonymous.status_code == 401
    assert (await kitchen.http.get(DISHES)).json() == before
    assert await outbox(kitchen) == []


async def test_a_role_written_in_the_body_is_refused_not_taken(kitchen: KitchenClient) -> None:
    """Seed 002: the role was client-settable: whatever a body says, the token's roles decide."""
    for extra in ({"role": "staff"}, {"roles": ["admin"]}, {"version": 9}, {"id": "mine"}):
        r = await kitchen.http.post(DISHES, json={**NEW, **extra}, headers=kitchen.auth())
        assert r.status_code == 403, r.text  # a customer is refused before the body is read
        r = await kitchen.http.post(DISHES, json={**NEW, **extra}, headers=kitchen.staff())
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == list(extra)
    assert await outbox(kitchen) == []


# --------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ingredients": {}}, "ingredients"),
        ({"ingredients": {"pollo": 0}}, "ingredients.pollo"),
        ({"ingredients": {"pollo": -2}}, "ingredients.pollo"),
        ({"ingredients": {"pollo": 1.5}}, "ingredients.pollo"),
        ({"ingredients": {"pollo": "2"}}, "ingredients.pollo"),
        ({"ingredients": {"Pollo Asado": 1}}, "ingredients.Pollo Asado.[key]"),
        ({"price_cents": 0}, "price_cents"),
        ({"price_cents": -100}, "price_cents"),
        ({"price_cents": 9.99}, "price_cents"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": None}, "name"),
    ],
)
async def test_a_bad_dish_is_refused_naming_the_field_and_nothing_is_written(
    kitchen: KitchenClient, change: dict[str, Any], field: str
) -> None:
    r = await kitchen.http.post(DISHES, json={**NEW, **change}, headers=kitchen.staff())
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await outbox(kitchen) == []
    assert (await read(kitchen, "arepa-reina-pepiada"))[0] == 404


async def test_a_name_already_on_the_menu_is_a_409_naming_name_until_that_dish_is_retired(
    kitchen: KitchenClient,
) -> None:
    r = await kitchen.http.post(DISHES, json={**NEW, "name": "pan SIMPLE"}, headers=kitchen.staff())
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/duplicate-dish-name")
    assert [e["field"] for e in r.json()["errors"]] == ["name"]
    renamed = await kitchen.http.patch(
        f"{DISHES}/lasagna", content=b'{"name": "Pan simple"}', headers=staff(kitchen, **MERGE, **{"If-Match": '"1"'})
    )
    assert renamed.status_code == 409, renamed.text
    assert (await kitchen.http.delete(f"{DISHES}/pan-simple", headers=staff(kitchen, **{"If-Match": '"1"'}))).is_success
    again = await kitchen.http.post(DISHES, json={**NEW, "name": "Pan simple"}, headers=kitchen.staff())
    assert again.status_code == 201, again.text
    assert again.json()["id"] == "pan-simple-2"


# ----------------------------------------------------------------------------------------- versions


async def test_writes_need_if_match_a_missing_one_is_428_a_stale_one_412_and_nothing_changes(
    kitchen: KitchenClient,
) -> None:
    path = f"{DISHES}/pan-simple"
    body = {**NEW, "name": "Pan simple"}
    missing = await kitchen.http.put(path, json=body, headers=kitchen.staff())
    assert missing.status_code == 428, missing.text
    assert missing.json()["type"].endswith("/precondition-required")
    assert [e["field"] for e in missing.json()["errors"]] == ["If-Match"]
    malformed = await kitchen.http.put(path, json=body, headers=staff(kitchen, **{"If-Match": "*"}))
    assert malformed.status_code == 400, malformed.text
    stale = await kitchen.http.put(path, json=body, headers=staff(kitchen, **{"If-Match": '"7"'}))
    assert stale.status_code == 412, stale.text
    assert stale.json()["type"].endswith("/stale-version")
    assert (stale.headers["etag"], stale.json()["current_version"]) == ('"1"', 1)
    for method in ("PATCH", "DELETE"):
        r = await kitchen.http.request(method, path, content=b"{}", headers=staff(kitchen, **MERGE))
        assert r.status_code == 428, r.text
    assert (await read(kitchen, "pan-simple"))[1]["version"] == 1
    assert await outbox(kitchen) == []


async def test_two_staff_editing_at_once_the_second_is_told_someone_saved_first(kitchen: KitchenClient) -> None:
    path = f"{DISHES}/ensalada-cesar"
    _, _, tag = await read(kitchen, "ensalada-cesar")
    assert tag is not None
    ana = await kitchen.http.patch(
        path, content=b'{"price_cents": 900}', headers=staff(kitchen, **MERGE, **{"If-Match": tag})
    )
    assert ana.status_code == 200, ana.text
    assert (ana.json()["version"], ana.headers["etag"]) == (2, '"2"')
    bea = await kitchen.http.patch(
        path, content=b'{"price_cents": 800}', headers=staff(kitchen, **MERGE, **{"If-Match": tag})
    )
    assert bea.status_code == 412, bea.text
    assert bea.headers["etag"] == '"2"'
    assert (await read(kitchen, "ensalada-cesar"))[1]["price_cents"] == 900


# ----------------------------------------------------------------------------------- merge patching


async def test_a_patch_changes_only_what_it_names_and_the_recipe_merges_by_ingredient(kitchen: KitchenClient) -> None:
    """Seed 003: a partial update zeroed every field it did not name."""
    _, before, _ = await read(kitchen, "pasta-carne-molida")
    r = await kitchen.http.patch(
        f"{DISHES}/pasta-carne-molida",
        content=b'{"price_cents": 1250, "ingredients": {"queso": null, "pasta": 8, "albahaca": 1}}',
        headers=staff(kitchen, **MERGE, **{"If-Match": '"1"'}),
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert after == {
        **before,
        "price_cents": 1250,
        "version": 2,
        "ingredients": {"albahaca": 1, "carne_molida": 5, "pasta": 8},
    }
    assert (await read(kitchen, "pasta-carne-molida"))[1] == after
    assert (await kitchen.pantry())["albahaca"]["on_hand"] == 0
    [updated] = await outbox(kitchen)
    assert (updated.type, updated.data["version"], updated.data["price_cents"]) == ("kitchen.dish.updated.v1", 2, 1250)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        (b'{"name": null}', "name"),
        (b'{"price_cents": null}', "price_cents"),
        (b'{"ingredients": null}', "ingredients"),
        (b'{"ingredients": {"lechuga": null, "pollo": null}}', "ingredients"),
        (b'{"image_url": "https://elsewhere.example/x.png"}', "image_url"),
        (b'{"price_cents": 0}', "price_cents"),
        (b'{"role": "admin"}', "role"),
    ],
)
async def test_null_clears_only_what_may_be_cleared(kitchen: KitchenClient, patch: bytes, field: str) -> None:
    r = await kitchen.http.patch(
        f"{DISHES}/ensalada-cesar", content=patch, headers=staff(kitchen, **MERGE, **{"If-Match": '"1"'})
    )
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert (await read(kitchen, "ensalada-cesar"))[1]["version"] == 1


async def test_null_clears_the_description_and_the_picture(kitchen: KitchenClient) -> None:
    r = await kitchen.http.patch(
        f"{DISHES}/ensalada-cesar",
        content=b'{"description": null, "image_url": null}',
        headers=staff(kitchen, **MERGE, **{"If-Match": '"1"'}),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["description"], r.json()["image_url"], r.json()["name"]) == ("", None, "Ensalada Cesar")


async def test_a_patch_must_say_it_is_a_merge_patch_and_an_empty_one_changes_nothing(kitchen: KitchenClient) -> None:
    path = f"{DISHES}/ensalada-cesar"
    as_json = await kitchen.http.patch(path, json={"price_cents": 1}, headers=staff(kitchen, **{"If-Match": '"1"'}))
    assert as_json.status_code == 415, as_json.text
    empty = await kitchen.http.patch(path, content=b"{}", headers=staff(kitchen, **MERGE, **{"If-Match": '"1"'}))
    assert (empty.status_code, empty.json()["version"]) == (200, 1)
    assert await outbox(kitchen) == []


async def test_put_replaces_the_dish_and_keeps_its_picture(kitchen: KitchenClient) -> None:
    r = await kitchen.http.put(
        f"{DISHES}/pan-simple",
        json={"name": "Pan con queso", "price_cents": 500, "ingredients": {"pan_canilla": 1, "queso": 3}},
        headers=staff(kitchen, **{"If-Match": '"1"'}),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "id": "pan-simple",
        "name": "Pan con queso",
        "description": "",
        "image_url": "/images/pan-simple.svg",
        "price_cents": 500,
        "version": 2,
        "ingredients": {"pan_canilla": 1, "queso": 3},
    }


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
