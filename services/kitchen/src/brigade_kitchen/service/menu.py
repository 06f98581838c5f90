"""Staff manage the menu: add, replace, patch and retire dishes, and give one a picture.

Each write runs in one unit of work: the dish row is locked, its version checked against the one the
writer read, the change written, and its event (`kitchen.dish.*.v1`, with the new version) sent
through the outbox with the same commit. A recipe's new ingredient gets its pantry row, at zero.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from brigade_kitchen.domain import dishes as rules
from brigade_kitchen.domain.errors import InvalidImage, UnknownDish
from brigade_kitchen.domain.model import Dish
from brigade_kitchen.service.handlers import Deps, Handler
from brigade_kitchen.service.ports import KitchenUnitOfWork

IMAGE_PATH = "/api/kitchen/images/{digest}"

# ---------------------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class CreateDish:
    draft: rules.Draft


@dataclass(frozen=True)
class ReplaceDish:
    dish_id: str
    expected_version: int
    draft: rules.Draft


@dataclass(frozen=True)
class PatchDish:
    """`patch` is a JSON Merge Patch document (RFC 7396) of the dish's writable fields."""

    dish_id: str
    expected_version: int
    patch: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RetireDish:
    dish_id: str
    expected_version: int


@dataclass(frozen=True)
class SetDishImage:
    dish_id: str
    expected_version: int
    media_type: str
    data: bytes


# ---------------------------------------------------------------------------------------- handlers


async def create_dish(cmd: CreateDish, uow: KitchenUnitOfWork, deps: Deps) -> Dish:
    async with uow:
        draft = rules.checked(cmd.draft)
        dish = rules.new_dish(await uow.dishes.free_id(rules.slug(draft.name)), draft)
        await uow.pantry.lock(dish.recipe)  # creates the rows of new ingredients, at zero
        await uow.dishes.add(dish)
        uow.record(rules.DishChanged(rules.DishChange.CREATED, dish))
        await uow.commit()
    return dish


async def replace_dish(cmd: ReplaceDish, uow: KitchenUnitOfWork, deps: Deps) -> Dish:
    return await _change(uow, cmd.dish_id, cmd.expected_version, lambda dish: rules.replaced(dish, cmd.draft))


async def patch_dish(cmd: PatchDish, uow: KitchenUnitOfWork, deps: Deps) -> Dish:
    return await _change(uow, cmd.dish_id, cmd.expected_version, lambda dish: rules.patched(dish, cmd.patch))


async def set_dish_image(cmd: SetDishImage, uow: KitchenUnitOfWork, deps: Deps) -> Dish:
    """The bytes must be the picture type they are sent as; they are kept under their SHA-256, and
    the dish's `image_url` names that digest (a new picture is a new URL: caches never go stale)."""
    found = rules.image_type(cmd.data)
    if found is None or found != cmd.media_type:
        raise InvalidImage(f"the body is not a {cmd.media_type} picture (its first bytes say otherwise)")
    digest = hashlib.sha256(cmd.data).hexdigest()
    async with uow:
        dish = await _locked(uow, cmd.dish_id, cmd.expected_version)
        await uow.dishes.store_image(digest, found, cmd.data)
        changed = await _save(uow, dish, rules.with_image(dish, IMAGE_PATH.format(digest=digest)))
        await uow.commit()
    return changed


async def retire_dish(cmd: RetireDish, uow: KitchenUnitOfWork, deps: Deps) -> Dish:
    """Off the menu (and today's pick); the row stays, so past orders keep naming it, with their own
    copy of its name and price."""
    async with uow:
        dish = await _locked(uow, cmd.dish_id, cmd.expected_version)
        gone = rules.retired(dish)
        await uow.dishes.retire(gone)
        uow.record(rules.DishChanged(rules.DishChange.RETIRED, gone))
        await uow.commit()
    return gone


async def _locked(uow: KitchenUnitOfWork, dish_id: str, expected_version: int) -> Dish:
    dish = await uow.dishes.lock(dish_id)
    if dish is None:
        raise UnknownDish(dish_id)
    rules.require_version(dish, expected_version)
    return dish


async def _change(uow: KitchenUnitOfWork, dish_id: str, expected_version: int, change: Callable[[Dish], Dish]) -> Dish:
    async with uow:
        dish = await _locked(uow, dish_id, expected_version)
        changed = await _save(uow, dish, change(dish))
        await uow.commit()
    return changed


async def _save(uow: KitchenUnitOfWork, dish: Dish, changed: Dish) -> Dish:
    """Write `changed`, unless it says what `dish` says already (then it is `dish`, same version)."""
    if rules.same(dish, changed):
        return dish
    added = set(changed.recipe) - set(dish.recipe)
    if added:
        await uow.pantry.lock(added)  # creates the rows of new ingredients, at zero
    await uow.dishes.save(changed)
    uow.record(rules.DishChanged(rules.DishChange.UPDATED, changed))
    return changed


HANDLERS: Mapping[type, Handler] = {
    CreateDish: create_dish,
    ReplaceDish: replace_dish,
    PatchDish: patch_dish,
    RetireDish: retire_dish,
    SetDishImage: set_dish_image,
}
