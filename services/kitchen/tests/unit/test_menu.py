"""The menu's rules and use cases against fakes: merge patches (RFC 7396), versions, validation naming
the field, pictures by their first bytes, retiring, and the events each write sends. No servers."""

from __future__ import annotations

import dataclasses

import pytest

from brigade_common.messaging import MessageContext
from brigade_kitchen.domain import dishes as rules
from brigade_kitchen.domain.errors import DuplicateDishName, InvalidDish, InvalidImage, StaleDish, UnknownDish
from brigade_kitchen.domain.model import Dish
from brigade_kitchen.service import commands as c
from brigade_kitchen.service import handlers, menu
from services.kitchen.tests.unit.fake_views import FakeViews
from services.kitchen.tests.unit.fakes import FakeUnitOfWork, KitchenState, deps

CTX = MessageContext("corr-menu")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
CESAR = Dish(
    "ensalada-cesar", "Ensalada Cesar", "Lechuga.", "/images/ensalada-cesar.svg", 850, 3, {"lechuga": 5, "pollo": 2}
)
DRAFT = rules.Draft("Cachapa", "Maíz tierno.", 650, {"maiz": 3, "queso": 2})


def uow(state: KitchenState) -> FakeUnitOfWork:
    return FakeUnitOfWork(state, CTX)


def changes(state: KitchenState) -> list[tuple[rules.DishChange, str, int]]:
    return [
        (e.change, e.dish.id, e.dish.version)
        for e in state.events(rules.DishChanged)
        if isinstance(e, rules.DishChanged)
    ]


# ---------------------------------------------------------------------------------------- the rules


def test_a_patch_leaves_what_it_omits_and_merges_the_recipe_by_ingredient() -> None:
    after = rules.patched(CESAR, {"price_cents": 900, "ingredients": {"pollo": None, "crutones": 1}})
    assert after == dataclasses.replace(CESAR, price_cents=900, version=4, recipe={"crutones": 1, "lechuga": 5})


@pytest.mark.parametrize("field", ["name", "price_cents", "ingredients"])
def test_null_never_clears_a_required_field(field: str) -> None:
    with pytest.raises(InvalidDish) as refused:
        rules.patched(CESAR, {field: None})
    assert refused.value.field == field


def test_null_clears_the_description_and_the_picture_and_a_url_is_not_a_picture() -> None:
    assert rules.patched(CESAR, {"description": None, "image_url": None}).description == ""
    assert rules.patched(CESAR, {"image_url": None}).image_url is None
    with pytest.raises(InvalidDish) as refused:
        rules.patched(CESAR, {"image_url": "javascript:alert(1)"})
    assert refused.value.field == "image_url"


def test_a_recipe_emptied_by_a_patch_is_refused() -> None:
    with pytest.raises(InvalidDish) as refused:
        rules.patched(CESAR, {"ingredients": {"lechuga": None, "pollo": None}})
    assert refused.value.field == "ingredients"


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (dataclasses.replace(DRAFT, name="  "), "name"),
        (dataclasses.replace(DRAFT, price_cents=0), "price_cents"),
        (dataclasses.replace(DRAFT, price_cents=True), "price_cents"),
        (dataclasses.replace(DRAFT, recipe={}), "ingredients"),
        (dataclasses.replace(DRAFT, recipe={"maiz": 0}), "ingredients.maiz"),
        (dataclasses.replace(DRAFT, recipe={"Maíz": 1}), "ingredients.Maíz"),
    ],
)
def test_a_bad_draft_names_its_field(draft: rules.Draft, field: str) -> None:
    with pytest.raises(InvalidDish) as refused:
        rules.checked(draft)
    assert refused.value.field == field


def test_ids_come_from_names_and_versions_must_match() -> None:
    assert rules.slug("Sándwich de pollo ") == "sandwich-de-pollo"
    assert rules.slug("¡¿!") == "dish"
    rules.require_version(CESAR, 3)
    with pytest.raises(StaleDish):
        rules.require_version(CESAR, 2)


def test_pictures_are_known_by_their_first_bytes() -> None:
    assert rules.image_type(PNG) == "image/png"
    assert rules.image_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert rules.image_type(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert rules.image_type(b"RIFF\x10\x00\x00\x00AVI ") is None
    assert rules.image_type(b"<svg onload=alert(1)>") is None


# ------------------------------------------------------------------------------------ the use cases


async def test_create_adds_the_dish_its_new_ingredients_at_zero_and_sends_created() -> None:
    state = KitchenState.seeded()
    dish = await menu.create_dish(menu.CreateDish(DRAFT), uow(state), deps())
    assert (dish.id, dish.version, dish.image_url) == ("cachapa", 1, None)
    assert state.pantry["maiz"] == [0, 0] and state.pantry["queso"] == [100, 0]
    assert changes(state) == [(rules.DishChange.CREATED, "cachapa", 1)]


async def test_a_name_on_the_menu_is_refused_and_nothing_is_committed() -> None:
    state = KitchenState.seeded()
    with pytest.raises(DuplicateDishName):
        await menu.create_dish(menu.CreateDish(dataclasses.replace(DRAFT, name="LASAÑA")), uow(state), deps())
    assert state.commits == 0


async def test_a_stale_write_changes_nothing() -> None:
    state = KitchenState.seeded()
    with pytest.raises(StaleDish):
        await menu.patch_dish(menu.PatchDish("pan-simple", 2, {"price_cents": 1}), uow(state), deps())
    assert state.dishes["pan-simple"].price_cents == 450 and changes(state) == []


async def test_a_patch_that_changes_nothing_keeps_the_version_and_sends_nothing() -> None:
    state = KitchenState.seeded()
    same = await menu.patch_dish(menu.PatchDish("pan-simple", 1, {"price_cents": 450}), uow(state), deps())
    assert same.version == 1 and changes(state) == []


async def test_replace_keeps_the_picture_and_sends_updated_with_the_version() -> None:
    state = KitchenState.seeded()
    state.dishes["pan-simple"] = dataclasses.replace(state.dishes["pan-simple"], image_url="/images/pan-simple.svg")
    after = await menu.replace_dish(menu.ReplaceDish("pan-simple", 1, DRAFT), uow(state), deps())
    assert (after.name, after.image_url, after.version) == ("Cachapa", "/images/pan-simple.svg", 2)
    assert changes(state) == [(rules.DishChange.UPDATED, "pan-simple", 2)]


async def test_a_picture_is_kept_by_its_digest_and_one_that_lies_about_its_type_is_refused() -> None:
    state = KitchenState.seeded()
    with pytest.raises(InvalidImage):
        await menu.set_dish_image(menu.SetDishImage("pan-simple", 1, "image/jpeg", PNG), uow(state), deps())
    dish = await menu.set_dish_image(menu.SetDishImage("pan-simple", 1, "image/png", PNG), uow(state), deps())
    digest = dish.image_url.rsplit("/", 1)[1] if dish.image_url else ""
    assert state.images[digest] == ("image/png", PNG) and dish.version == 2


async def test_a_retired_dish_leaves_the_menu_and_cannot_be_ordered_or_retired_again() -> None:
    state, d = KitchenState.seeded(), deps()
    gone = await menu.retire_dish(menu.RetireDish("pan-simple", 1), uow(state), d)
    assert gone.version == 2 and changes(state) == [(rules.DishChange.RETIRED, "pan-simple", 2)]
    views = FakeViews(state)
    assert "pan-simple" not in await views.dish_ids()
    assert "pan-simple" in state.dishes  # the row stays, for the orders that name it
    with pytest.raises(UnknownDish):
        await handlers.place_order(c.PlaceOrder("o-1", "alice", "pan-simple", 1), uow(state), d)
    with pytest.raises(UnknownDish):
        await menu.retire_dish(menu.RetireDish("pan-simple", 2), uow(state), d)
