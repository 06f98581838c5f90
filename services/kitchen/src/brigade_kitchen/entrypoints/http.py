"""Kitchen HTTP routes under /api/kitchen: each declares its inputs, calls one use case, responds.

Errors are answered by `PROBLEMS` (registered once on the app), never caught here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from brigade_common.auth.verifier import Principal
from brigade_common.conditional import IF_NONE_MATCH, conditional_json
from brigade_common.http import json_response
from brigade_common.idempotency import IdempotencyKey, fingerprint
from brigade_common.inputs import IDEMPOTENCY_KEY
from brigade_common.messaging import MessageContext
from brigade_common.openapi import OpenAPI
from brigade_common.pagination import IdPageQuery, Page, id_page, time_cursor
from brigade_common.problems import Conflict, NotFound, Problem, ProblemMapper, Unprocessable
from brigade_contracts.auth import Role
from brigade_kitchen.domain.errors import (
    DishVersionChanged,
    DuplicateDishName,
    InvalidDish,
    InvalidImage,
    InvalidTransition,
    StaleDish,
    UnknownDish,
    UnknownOrder,
)
from brigade_kitchen.entrypoints.schemas import (
    DishOut,
    DishPath,
    JourneyStepOut,
    MovementOut,
    OrderListQuery,
    OrderOut,
    PantryItem,
    PlaceOrderBody,
    etag,
)
from brigade_kitchen.service import commands, queries
from brigade_kitchen.service.kitchen import Kitchen, Placement

PREFIX = "/api/kitchen"
api = OpenAPI(title="Brigade kitchen", version="1.0.0")
STAFF = (Role.STAFF,)


def _invalid_dish(e: Exception) -> Problem:
    assert isinstance(e, InvalidDish)
    return Unprocessable(e.message, type="invalid-dish", field=e.field)


def _stale_dish(e: Exception) -> Problem:
    """A write whose If-Match is not the dish's version any more: 412 with the current ETag."""
    assert isinstance(e, StaleDish)
    return Problem(
        str(e),
        status=412,
        title="Precondition Failed",
        type="stale-version",
        field="If-Match",
        headers={"ETag": etag(e.current)},
        extensions={"current_version": e.current},
    )


def _dish_version_changed(e: Exception) -> Problem:
    assert isinstance(e, DishVersionChanged)
    return Conflict(
        str(e), type="dish-version-changed", field="dish_version", extensions={"current_version": e.current}
    )


# The kitchen's errors as HTTP answers: the one place they are mapped.
PROBLEMS: Mapping[type[Exception], ProblemMapper] = {
    # The order names a dish that does not exist: the same answer as GET /dishes/{id} gives.
    UnknownDish: lambda e: NotFound(str(e), type="unknown-dish", field="dish_id"),
    UnknownOrder: lambda e: NotFound(str(e), type="unknown-order"),
    InvalidTransition: lambda e: Conflict(str(e), type="invalid-order-transition"),
    InvalidDish: _invalid_dish,
    InvalidImage: lambda e: Unprocessable(str(e), type="invalid-image", field="body"),
    DuplicateDishName: lambda e: Conflict(str(e), type="duplicate-dish-name", field="name"),
    StaleDish: _stale_dish,
    DishVersionChanged: _dish_version_changed,
}


class OrderPath(BaseModel):
    order_id: uuid.UUID


def _kitchen(request: Request) -> Kitchen:
    kitchen: Kitchen = request.app.state.kitchen
    return kitchen


def _is_staff(principal: Principal) -> bool:
    return Role.STAFF in principal.roles


def _placed(placement: Placement) -> Response:
    entry = placement.entry
    headers = {"Location": f"{PREFIX}/orders/{entry.order.order_id}"}
    if placement.replayed:
        headers["Idempotent-Replayed"] = "true"
    status = 202 if entry.order.status == "pending" else 201
    return json_response(OrderOut.of_entry(entry), status=status, headers=headers)


# ------------------------------------------------------------------------------------------ dishes


# Reads of the menu answer 304 to a client that holds them already (brigade_common.conditional).
_READ: dict[str, Any] = {"headers": [IF_NONE_MATCH]}


@api.route("GET", f"{PREFIX}/dishes", responses={200: list[DishOut], 304: None}, summary="Every dish", **_READ)
async def list_dishes(request: Request, *, if_none_match: str | None) -> Response:
    dishes = [DishOut.of(d) for d in await _kitchen(request).views.dishes()]
    return conditional_json(dishes, if_none_match=if_none_match)


@api.route(
    "GET",
    f"{PREFIX}/dishes/today",
    responses={200: list[DishOut], 304: None},
    summary="Today's menu: up to 7 dishes, stable for the day",
    **_READ,
)
async def todays_dishes(request: Request, *, if_none_match: str | None) -> Response:
    menu = await queries.todays_menu(_kitchen(request).views, datetime.now(UTC).date())
    return conditional_json([DishOut.of(d) for d in menu], if_none_match=if_none_match)


@api.route(
    "GET",
    f"{PREFIX}/dishes/{{dish_id}}",
    path_params=DishPath,
    responses={200: DishOut, 304: None, 404: NotFound},
    summary="One dish (its ETag is its version, which writes name in If-Match)",
    **_READ,
)
async def get_dish(request: Request, *, dish_id: str, if_none_match: str | None) -> Response:
    found = await _kitchen(request).views.dishes([dish_id])
    if not found:
        raise NotFound(f"no dish with id {dish_id!r}", type="unknown-dish")
    return conditional_json(DishOut.of(found[0]), if_none_match=if_none_match, etag=etag(found[0].version))


# ------------------------------------------------------------------------------------------ orders


ORDERS = f"{PREFIX}/orders"


@api.route(
    "POST",
    ORDERS,
    body=PlaceOrderBody,
    auth=True,
    headers=[IDEMPOTENCY_KEY],
    responses={201: OrderOut, 202: OrderOut, 404: NotFound, 409: Conflict},
    summary="Order a dish (waits up to KITCHEN_ORDER_WAIT_S for the kitchen to hold the ingredients)",
    description="201 with the order once it is reserved (or failed); 202 with a `Location` to poll while "
    "the warehouse is still supplying it.",
)
async def place_order(
    request: Request,
    *,
    body: PlaceOrderBody,
    principal: Principal,
    idempotency_key: str | None,
    context: MessageContext,
) -> Response:
    # The route's own path (what `request.url.path` is here, without building the whole URL).
    key = (
        IdempotencyKey(principal.sub, idempotency_key, "POST", ORDERS, fingerprint("POST", ORDERS, body))
        if idempotency_key is not None
        else None
    )
    cmd = commands.PlaceOrder(
        str(uuid.uuid4()), principal.sub, body.dish_id, body.quantity, key, dish_version=body.dish_version
    )
    return _placed(await _kitchen(request).place(cmd, context=context))


@api.route(
    "GET",
    f"{PREFIX}/orders/{{order_id}}",
    path_params=OrderPath,
    auth=True,
    responses={200: OrderOut, 404: NotFound},
    summary="One of my orders (staff: any order)",
)
async def get_order(request: Request, *, order_id: uuid.UUID, principal: Principal) -> Response:
    entry = await queries.visible_order(
        _kitchen(request).views, str(order_id), viewer=principal.sub, is_staff=_is_staff(principal)
    )
    return json_response(OrderOut.of_entry(entry))


@api.route(
    "GET",
    f"{PREFIX}/orders/{{order_id}}/journey",
    path_params=OrderPath,
    auth=True,
    responses={200: list[JourneyStepOut], 404: NotFound},
    summary="The journey of one of my orders (staff: any order), oldest step first",
    description="Every change of state and every step of its supply (requested, bought at the market, "
    "delivered, failed), each with its time and a `key` the live feed's events carry too.",
)
async def order_journey(request: Request, *, order_id: uuid.UUID, principal: Principal) -> Response:
    steps = await queries.visible_journey(
        _kitchen(request).views, str(order_id), viewer=principal.sub, is_staff=_is_staff(principal)
    )
    return json_response([JourneyStepOut.of(s) for s in steps])


@api.route(
    "GET",
    f"{PREFIX}/orders",
    auth=True,
    query=OrderListQuery,
    responses={200: Page[OrderOut]},
    summary="My orders, newest first (staff: every order)",
)
async def list_orders(request: Request, *, query: OrderListQuery, principal: Principal) -> Response:
    customer = None if _is_staff(principal) else principal.sub
    rows = await _kitchen(request).views.orders_of(
        customer, statuses=frozenset(query.status), before=query.before(), limit=query.limit + 1
    )
    page = rows[: query.limit]
    nxt = time_cursor(page[-1].created_at, page[-1].order.order_id) if len(rows) > query.limit else None
    return json_response(Page[OrderOut](items=[OrderOut.of_entry(r) for r in page], next_cursor=nxt))


@api.route(
    "POST",
    f"{PREFIX}/orders/{{order_id}}/cancel",
    path_params=OrderPath,
    auth=True,
    responses={200: OrderOut, 404: NotFound, 409: Conflict},
    summary="Cancel a pending or reserved order; its ingredients stay in the pantry",
)
async def cancel_order(
    request: Request, *, order_id: uuid.UUID, principal: Principal, context: MessageContext
) -> Response:
    cmd = commands.CancelOrder(str(order_id), by=principal.sub, is_staff=_is_staff(principal))
    return json_response(OrderOut.of_entry(await _kitchen(request).handle(cmd, context=context)))


# ------------------------------------------------------------------------------------------ pantry


@api.route(
    "GET",
    f"{PREFIX}/pantry",
    auth=STAFF,
    responses={200: list[PantryItem]},
    summary="Per ingredient: on hand, reserved for orders, available (staff)",
)
async def pantry(request: Request) -> Response:
    return json_response([PantryItem.of(b) for b in await _kitchen(request).views.pantry()])


@api.route(
    "GET",
    f"{PREFIX}/pantry/movements",
    auth=STAFF,
    query=IdPageQuery,
    responses={200: Page[MovementOut]},
    summary="The pantry ledger, newest first (cursor-paginated; staff)",
)
async def movements(request: Request, *, query: IdPageQuery) -> Response:
    rows = await _kitchen(request).views.movements(before=query.before(), limit=query.limit + 1)
    items, nxt = id_page(rows, query.limit)
    return json_response(Page[MovementOut](items=[MovementOut.of(m) for m in items], next_cursor=nxt))
