"""Staff manage the menu over HTTP: every write route and role, merge-patch semantics, versions
(ETag / If-Match: 412, 428), validation naming its field, and the events each write sends through the
outbox (retiring, pictures and racing writes: test_dish_lifecycle). Real PostgreSQL and NATS; the
bugs of seeds 002 and 003 (roles never checked, partial updates zeroing what they omit, orphans on
delete) each have a regression here or there."""

from __future__ import annotations

from typing import Any

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


# ------------------------------------------------------------------------------- conditional reads


async def test_a_dish_read_again_unchanged_is_a_304_without_a_body_and_changed_is_read_in_full(
    kitchen: KitchenClient,
) -> None:
    url = f"{DISHES}/pan-simple"
    first = await kitchen.http.get(url)
    assert first.headers["etag"] == '"1"'
    for held in ('"1"', 'W/"1"', '"7", "1"', "*"):
        again = await kitchen.http.get(url, headers={"If-None-Match": held})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", '"1"'), held
    # Another tag, or one that is not a tag at all, gets the dish.
    for other in ('"2"', "not a tag"):
        assert (await kitchen.http.get(url, headers={"If-None-Match": other})).json() == first.json()
    r = await kitchen.http.patch(
        url, content=b'{"price_cents": 480}', headers=staff(kitchen, **MERGE, **{"If-Match": '"1"'})
    )
    assert r.status_code == 200, r.text
    changed = await kitchen.http.get(url, headers={"If-None-Match": '"1"'})
    assert (changed.status_code, changed.headers["etag"], changed.json()["price_cents"]) == (200, '"2"', 480)


@pytest.mark.parametrize("path", ["", "/today"], ids=["every-dish", "today"])
async def test_the_menu_read_again_unchanged_is_a_304_and_a_changed_dish_changes_its_etag(
    kitchen: KitchenClient, path: str
) -> None:
    first = await kitchen.http.get(DISHES + path)
    tag = first.headers["etag"]
    assert first.status_code == 200 and first.json()
    again = await kitchen.http.get(DISHES + path, headers={"If-None-Match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    dish = first.json()[0]
    patch = b'{"description": "Otra receta."}'
    headers = staff(kitchen, **MERGE, **{"If-Match": f'"{dish["version"]}"'})
    assert (await kitchen.http.patch(f"{DISHES}/{dish['id']}", content=patch, headers=headers)).status_code == 200
    changed = await kitchen.http.get(DISHES + path, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert {d["id"]: d["description"] for d in changed.json()}[dish["id"]] == "Otra receta."
