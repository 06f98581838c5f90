"""The menu as staff write it: what a dish may be, how a merge patch (RFC 7396) changes one, and
what a picture's bytes must start with. Pure: the use cases (service/menu.py) apply these rules.

Every change gives the dish its next `version`; a write names the version it read, and one that
read an older version is refused (`StaleDish`), so two staff editing at once never overwrite each
other silently.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from brigade_kitchen.domain.errors import InvalidDish, StaleDish
from brigade_kitchen.domain.events import Event
from brigade_kitchen.domain.model import Dish

INGREDIENT = re.compile(r"^[a-z][a-z0-9_]*$")  # the contracts' Ingredient (brigade_contracts.warehouse)
MAX_NAME = 80
MAX_DESCRIPTION = 500
MAX_PRICE_CENTS = 1_000_000
MAX_INGREDIENTS = 20
MAX_AMOUNT = 1000
MAX_INGREDIENT_NAME = 64

# What a picture's first bytes must be, per type accepted. No SVG: it can carry script.
IMAGE_SIGNATURES: Mapping[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),  # then four bytes of length, then WEBP
}
IMAGE_TYPES = tuple(IMAGE_SIGNATURES)


class DishChange(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    RETIRED = "retired"


@dataclass(frozen=True)
class DishChanged(Event):
    """A dish was added to the menu, changed (`dish` as it is now) or retired (as it was last)."""

    change: DishChange
    dish: Dish


@dataclass(frozen=True)
class Draft:
    """What staff say a dish is (everything but its id, picture and version)."""

    name: str
    description: str
    price_cents: int
    recipe: Mapping[str, int]


def slug(name: str) -> str:
    """The id a new dish named `name` would like: `Sándwich de pollo` → `sandwich-de-pollo`."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    return words[:48].rstrip("-") or "dish"


def checked(draft: Draft) -> Draft:
    """`draft` with its name and description trimmed; `InvalidDish` naming the first wrong field."""
    # Spaces only: what the API lets through (no control characters, one that is not blank) stays.
    name = draft.name.strip(" ")
    if not name or len(name) > MAX_NAME:
        raise InvalidDish("name", f"a name of 1 to {MAX_NAME} characters is required")
    description = draft.description.strip(" ")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidDish("description", f"at most {MAX_DESCRIPTION} characters")
    price = draft.price_cents
    if isinstance(price, bool) or not isinstance(price, int) or not 0 < price <= MAX_PRICE_CENTS:
        raise InvalidDish("price_cents", f"a whole number of cents from 1 to {MAX_PRICE_CENTS}")
    if not draft.recipe:
        raise InvalidDish("ingredients", "a recipe needs at least one ingredient")
    if len(draft.recipe) > MAX_INGREDIENTS:
        raise InvalidDish("ingredients", f"at most {MAX_INGREDIENTS} ingredients")
    for ingredient, amount in draft.recipe.items():
        if not INGREDIENT.match(ingredient) or len(ingredient) > MAX_INGREDIENT_NAME:
            raise InvalidDish(f"ingredients.{ingredient}", "an ingredient is named in lower snake case (pan_canilla)")
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
            raise InvalidDish(f"ingredients.{ingredient}", f"a whole number of units from 1 to {MAX_AMOUNT}")
    return Draft(name, description, price, dict(sorted(draft.recipe.items())))


def new_dish(dish_id: str, draft: Draft) -> Dish:
    d = checked(draft)
    return Dish(dish_id, d.name, d.description, None, d.price_cents, 1, d.recipe)


def require_version(dish: Dish, expected: int) -> None:
    """The write read the dish at `expected`: refused unless that is still its version."""
    if dish.version != expected:
        raise StaleDish(dish.id, expected, dish.version)


def replaced(dish: Dish, draft: Draft) -> Dish:
    """The dish as `draft` says it is now (its picture stays: it has its own resource)."""
    d = checked(draft)
    return dataclasses.replace(
        dish,
        name=d.name,
        description=d.description,
        price_cents=d.price_cents,
        recipe=d.recipe,
        version=dish.version + 1,
    )


# Fields a merge patch may clear with `null`, and what they become; the others are required.
_CLEARABLE: Mapping[str, Any] = {"description": "", "image_url": None}


def patched(dish: Dish, patch: Mapping[str, Any]) -> Dish:
    """The dish with the JSON Merge Patch `patch` applied (RFC 7396): an omitted member stays as
    it is, `null` clears what may be cleared (the description, the picture) and is refused for a
    required field, and `ingredients` is merged member by member (`{"queso": null}` drops queso,
    `{"pollo": 3}` sets pollo, the rest of the recipe stays)."""
    for key, value in patch.items():
        if value is None and key not in _CLEARABLE:
            raise InvalidDish(key, f"{key} is required: it may be changed but not cleared")
    if isinstance(patch.get("image_url"), str):
        raise InvalidDish("image_url", "upload a picture with PUT …/dishes/{id}/image; here only null removes it")
    recipe = dict(dish.recipe)
    for ingredient, amount in (patch.get("ingredients") or {}).items():
        if amount is None:
            recipe.pop(ingredient, None)
        else:
            recipe[ingredient] = amount
    draft = Draft(
        name=patch.get("name", dish.name),
        description=patch.get("description", dish.description) or "",
        price_cents=patch.get("price_cents", dish.price_cents),
        recipe=recipe,
    )
    changed = replaced(dish, draft)
    if "image_url" in patch:
        changed = dataclasses.replace(changed, image_url=None)
    return changed


def with_image(dish: Dish, image_url: str) -> Dish:
    return dataclasses.replace(dish, image_url=image_url, version=dish.version + 1)


def same(before: Dish, after: Dish) -> bool:
    """`after` changes nothing of `before` but its version (a write that changes nothing is no change)."""
    return dataclasses.replace(after, version=before.version, recipe=dict(after.recipe)) == dataclasses.replace(
        before, recipe=dict(before.recipe)
    )


def retired(dish: Dish) -> Dish:
    return dataclasses.replace(dish, version=dish.version + 1)


def image_type(data: bytes) -> str | None:
    """The type `data` is by its first bytes (PNG, JPEG, WebP), None for anything else."""
    if data[8:12] == b"WEBP" and data.startswith(b"RIFF"):
        return "image/webp"
    for media_type, signatures in IMAGE_SIGNATURES.items():
        if media_type != "image/webp" and data.startswith(signatures):
            return media_type
    return None
