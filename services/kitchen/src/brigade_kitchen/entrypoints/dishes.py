"""The menu's write routes (staff) and the dishes' pictures, declared on the kitchen's `api`.

Every dish read sends its version as a strong `ETag`; every write names the version it read in
`If-Match` (missing: 428; no longer the dish's: 412, with the current ETag), so two staff editing
at once never overwrite each other silently. Errors are answered by `PROBLEMS` (entrypoints/http.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from brigade_common.http import json_response
from brigade_common.inputs import WHOLE, Header, RawBody, Upload
from brigade_common.messaging import MessageContext
from brigade_common.problems import Conflict, NotFound, Problem, Unprocessable
from brigade_contracts.auth import Role
from brigade_kitchen.domain import dishes as rules
from brigade_kitchen.domain.model import Dish
from brigade_kitchen.entrypoints.http import PREFIX, _kitchen, api
from brigade_kitchen.entrypoints.schemas import DishOut, DishPath, etag
from brigade_kitchen.service import menu

__all__ = ["api"]

WRITERS = (Role.STAFF, Role.ADMIN)
MERGE_PATCH = "application/merge-patch+json"
MAX_IMAGE_BYTES = 1024 * 1024
_ETAG = re.compile(r'^"([1-9][0-9]{0,8})"$')

IF_MATCH = Header(
    name="If-Match",
    param="if_match",
    schema={"type": "string", "pattern": _ETAG.pattern},
    description='The dish\'s ETag as last read (`"3"`): the write happens only if the dish is still at that '
    "version (else 412, with the current ETag); without it, 428.",
    valid=lambda v: _ETAG.match(v) is not None,
    invalid='If-Match must be the strong ETag a read of the dish gave, such as "3"',
    problem_type="invalid-if-match",
    required=True,
    missing_status=428,
    missing_type="precondition-required",
)


def version_of(if_match: str) -> int:
    found = _ETAG.match(if_match)
    assert found is not None  # IF_MATCH checked it
    return int(found[1])


def _required(field: str) -> BeforeValidator:
    def refuse_null(value: Any) -> Any:
        if value is None:
            raise ValueError(f"{field} is required: it may be changed but not cleared")
        return value

    return BeforeValidator(refuse_null)


def _no_default(schema: dict[str, Any]) -> None:
    # Omitted means "stays as it is", not null: the document must not say a default of null.
    schema.pop("default", None)


_NO_DEFAULT = _no_default
_INGREDIENT = r"^[a-z][a-z0-9_]{0,63}$"


def _ingredients_schema(schema: dict[str, Any]) -> None:
    # Only ingredient names as keys: what JSON Schema may say of the recipe, it says.
    schema.update(additionalProperties=False, propertyNames={"pattern": _INGREDIENT})
    schema.pop("default", None)


_INGREDIENTS_SCHEMA = _ingredients_schema
# At least one character that is not a blank or a control character (as auth's display names).
Name = Annotated[
    str,
    Field(min_length=1, max_length=rules.MAX_NAME, pattern=r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$"),
]
Description = Annotated[str, Field(max_length=rules.MAX_DESCRIPTION, pattern=r"^[^\x00]*$")]
Price = Annotated[int, Field(ge=1, le=rules.MAX_PRICE_CENTS, description="In cents, above zero"), WHOLE]
Amount = Annotated[int, Field(ge=1, le=rules.MAX_AMOUNT, description="Whole units in one portion"), WHOLE]
IngredientName = Annotated[str, Field(pattern=_INGREDIENT)]


class DishIn(BaseModel):
    """A dish as staff write it (POST, PUT): its id, version and picture are the kitchen's to set."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name
    description: Description = ""
    price_cents: Price
    ingredients: Annotated[
        dict[IngredientName, Amount],
        Field(min_length=1, max_length=rules.MAX_INGREDIENTS, json_schema_extra=_INGREDIENTS_SCHEMA),
    ]

    def draft(self) -> rules.Draft:
        return rules.Draft(self.name, self.description, self.price_cents, self.ingredients)


class DishPatchIn(BaseModel):
    """A JSON Merge Patch (RFC 7396) of a dish: an omitted member stays as it is; `null` removes the
    description or the picture; `ingredients` merges by ingredient (`null` drops one)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[Name, _required("name")] = None  # type: ignore[assignment]
    description: Description | None = Field(default=None, json_schema_extra=_NO_DEFAULT)
    price_cents: Annotated[Price, _required("price_cents")] = None  # type: ignore[assignment]
    ingredients: Annotated[
        dict[IngredientName, Amount | None],
        Field(max_length=rules.MAX_INGREDIENTS, json_schema_extra=_INGREDIENTS_SCHEMA),
        _required("ingredients"),
    ] = None  # type: ignore[assignment]
    image_url: None = Field(
        default=None,
        description="null removes the picture (upload one with PUT …/image)",
        json_schema_extra=_NO_DEFAULT,
    )

    def patch(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ImagePath(BaseModel):
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="The picture's SHA-256")]


def _dish(dish: Dish, status: int = 200) -> Response:
    headers = {"ETag": etag(dish.version)}
    if status == 201:
        headers["Location"] = f"{PREFIX}/dishes/{dish.id}"
    return json_response(DishOut.of(dish), status=status, headers=headers)


_WRITE_PROBLEMS: dict[int, Any] = {404: NotFound, 409: Conflict, 412: Problem, 422: Unprocessable}
# What every write to one dish declares: which dish, the version it read, and who may.
_ONE_DISH: dict[str, Any] = {"path_params": DishPath, "headers": [IF_MATCH], "auth": WRITERS}


@api.route(
    "POST",
    f"{PREFIX}/dishes",
    body=DishIn,
    auth=WRITERS,
    responses={201: DishOut, 409: Conflict},
    summary="Add a dish to the menu (staff); its id comes from its name",
)
async def create_dish(request: Request, *, body: DishIn, context: MessageContext) -> Response:
    return _dish(await _kitchen(request).handle(menu.CreateDish(body.draft()), context=context), status=201)


@api.route(
    "PUT",
    f"{PREFIX}/dishes/{{dish_id}}",
    body=DishIn,
    **_ONE_DISH,
    responses={200: DishOut, **_WRITE_PROBLEMS},
    summary="Replace a dish's name, description, price and recipe (staff; its picture stays)",
)
async def replace_dish(
    request: Request, *, dish_id: str, body: DishIn, if_match: str, context: MessageContext
) -> Response:
    cmd = menu.ReplaceDish(dish_id, version_of(if_match), body.draft())
    return _dish(await _kitchen(request).handle(cmd, context=context))


@api.route(
    "PATCH",
    f"{PREFIX}/dishes/{{dish_id}}",
    body=DishPatchIn,
    body_media_type=MERGE_PATCH,
    **_ONE_DISH,
    responses={200: DishOut, **_WRITE_PROBLEMS},
    summary="Change some of a dish (staff): a JSON Merge Patch, omitted fields untouched",
)
async def patch_dish(
    request: Request, *, dish_id: str, body: DishPatchIn, if_match: str, context: MessageContext
) -> Response:
    cmd = menu.PatchDish(dish_id, version_of(if_match), body.patch())
    return _dish(await _kitchen(request).handle(cmd, context=context))


@api.route(
    "DELETE",
    f"{PREFIX}/dishes/{{dish_id}}",
    **_ONE_DISH,
    responses={204: None, 404: NotFound, 412: Problem},
    summary="Retire a dish (staff): off the menu and today's pick; past orders keep its name and price",
)
async def retire_dish(request: Request, *, dish_id: str, if_match: str, context: MessageContext) -> Response:
    await _kitchen(request).handle(menu.RetireDish(dish_id, version_of(if_match)), context=context)
    return Response(status_code=204)


@api.route(
    "PUT",
    f"{PREFIX}/dishes/{{dish_id}}/image",
    body=RawBody(rules.IMAGE_TYPES, MAX_IMAGE_BYTES),
    **_ONE_DISH,
    responses={200: DishOut, **_WRITE_PROBLEMS},
    summary="Give a dish its picture (staff): PNG, JPEG or WebP up to 1 MiB, the raw bytes as the body",
)
async def set_dish_image(
    request: Request, *, dish_id: str, body: Upload, if_match: str, context: MessageContext
) -> Response:
    cmd = menu.SetDishImage(dish_id, version_of(if_match), body.media_type, body.data)
    return _dish(await _kitchen(request).handle(cmd, context=context))


# A picture is served as the type it was checked to be, never sniffed, never run as a document.
IMAGE_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",  # its URL is its content's digest
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@api.route(
    "GET",
    f"{PREFIX}/images/{{digest}}",
    path_params=ImagePath,
    responses={200: None, 404: NotFound},
    summary="A dish's picture, by the SHA-256 its image_url names",
)
async def dish_image(request: Request, *, digest: str) -> Response:
    found = await _kitchen(request).views.image(digest)
    if found is None:
        raise NotFound(f"no picture {digest}", type="unknown-image")
    media_type, data = found
    return Response(data, media_type=media_type, headers={**IMAGE_HEADERS, "ETag": f'"{digest}"'})
