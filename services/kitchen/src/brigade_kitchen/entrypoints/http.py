"""Kitchen HTTP routes under /api/kitchen: parse → use case → respond."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from brigade_common import idempotency
from brigade_common.auth.requests import require_principal
from brigade_common.auth.verifier import Principal
from brigade_common.http import json_response, parse_json, parse_query
from brigade_common.openapi import OpenAPI
from brigade_common.pagination import Page, PageQuery, id_cursor, id_page
from brigade_common.problems import BadRequest, Conflict, NotFound, Problem, Unprocessable
from brigade_contracts.kitchen import OrderSnapshot
from brigade_kitchen.adapters.buffered import buffered_transaction
from brigade_kitchen.adapters.repository import KitchenRepo
from brigade_kitchen.bootstrap import Kitchen
from brigade_kitchen.domain.menu import todays_menu
from brigade_kitchen.domain.orders import (
    MAX_QUANTITY,
    InvalidTransition,
    KitchenError,
    UnknownDish,
    UnknownOrder,
)
from brigade_kitchen.service import orders

PREFIX = "/api/kitchen"
api = OpenAPI(title="Brigade kitchen", version="1.0.0")


# ------------------------------------------------------------------------------------------ models


class DishOut(BaseModel):
    id: str
    name: str
    description: str
    image_url: str | None
    price_cents: int
    version: int
    ingredients: dict[str, int]


class PlaceOrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    dish_id: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)] = 1


class PantryItem(BaseModel):
    ingredient: str
    on_hand: int
    reserved: int
    available: int


class Movement(BaseModel):
    id: int
    ingredient: str
    delta: int
    reason: str
    order_id: str | None
    created_at: datetime


# ---------------------------------------------------------------------------------------- helpers


def _kitchen(request: Request) -> Kitchen:
    kitchen: Kitchen = request.app.state.kitchen
    return kitchen


def _domain_problem(exc: KitchenError) -> Problem:
    """The kitchen's errors mapped to HTTP, in one place."""
    if isinstance(exc, UnknownDish):
        return Unprocessable(str(exc), type="unknown-dish", field="dish_id")
    if isinstance(exc, UnknownOrder):
        return NotFound(str(exc), type="unknown-order")
    if isinstance(exc, InvalidTransition):
        return Conflict(str(exc), type="invalid-order-transition")
    return Problem(str(exc))


def _order_location(order_id: str) -> str:
    return f"{PREFIX}/orders/{order_id}"


def _order_response(order: OrderSnapshot, *, replayed: bool = False) -> Response:
    headers = {"Location": _order_location(order.order_id)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(order, status=202 if order.status == "pending" else 201, headers=headers)


def _is_staff(principal: Principal) -> bool:
    return "staff" in principal.roles


# ------------------------------------------------------------------------------------------ dishes


def _dish_out(d: Any) -> DishOut:
    return DishOut(
        id=d.id,
        name=d.name,
        description=d.description,
        image_url=d.image_url,
        price_cents=d.price_cents,
        version=d.version,
        ingredients=d.recipe,
    )


@api.route("GET", f"{PREFIX}/dishes", responses={200: list[DishOut]}, summary="Every dish")
async def list_dishes(request: Request) -> Response:
    async with _kitchen(request).db.acquire() as conn:
        dishes = await KitchenRepo(conn).dishes()
    return json_response([_dish_out(d).model_dump(mode="json") for d in dishes])


@api.route(
    "GET",
    f"{PREFIX}/dishes/today",
    responses={200: list[DishOut]},
    summary="Today's menu: up to 7 dishes, stable for the day",
)
async def todays_dishes(request: Request) -> Response:
    async with _kitchen(request).db.acquire() as conn:
        repo = KitchenRepo(conn)
        ids = todays_menu(await repo.dish_ids(), datetime.now(UTC).date())
        dishes = {d.id: d for d in await repo.dishes(ids)}
    return json_response([_dish_out(dishes[i]).model_dump(mode="json") for i in ids])


@api.route("GET", f"{PREFIX}/dishes/{{dish_id}}", responses={200: DishOut, 404: NotFound}, summary="One dish")
async def get_dish(request: Request) -> Response:
    dish_id = request.path_params["dish_id"]
    async with _kitchen(request).db.acquire() as conn:
        dish = await KitchenRepo(conn).dish(dish_id)
    if dish is None:
        raise NotFound(f"no dish with id {dish_id!r}", type="unknown-dish")
    return json_response(_dish_out(dish))


# ------------------------------------------------------------------------------------------ orders


@api.route(
    "POST",
    f"{PREFIX}/orders",
    request=PlaceOrderBody,
    auth=True,
    responses={201: OrderSnapshot, 202: OrderSnapshot, 409: Conflict},
    summary="Order a dish (waits up to KITCHEN_ORDER_WAIT_S for the kitchen to hold the ingredients)",
    description="Send an `Idempotency-Key` header to make retries safe: the same key and body return the "
    "same order; the same key with another body is refused with 422.",
)
async def place_order(request: Request) -> Response:
    kitchen = _kitchen(request)
    principal = await require_principal(request)
    body = await parse_json(request, PlaceOrderBody)
    key = idempotency.read_idempotency_key(request)
    order_id = str(uuid.uuid4())
    corr = request.headers.get("correlation-id") or order_id
    with kitchen.waiters.register(order_id) as settled:
        # At most N reservation transactions at once; the others wait here, not on the pantry row locks.
        async with kitchen.admission.slot(), kitchen.db.acquire() as conn, buffered_transaction(conn) as repo:
            if key:
                stored = await idempotency.claim(
                    conn,
                    principal=principal.sub,
                    key=key,
                    method="POST",
                    path=request.url.path,
                    fingerprint=idempotency.fingerprint("POST", request.url.path, body),
                )
                if stored is not None:
                    replay = await repo.order(str(stored.resource_id))
                    if replay is None:
                        raise BadRequest("the order of this Idempotency-Key is gone", field="Idempotency-Key")
                    return _order_response(replay, replayed=True)
                # The result is known before the work; stored now, it commits (or rolls back) with the
                # order all the same, and is not written while the pantry rows are locked.
                await idempotency.store(
                    conn,
                    principal=principal.sub,
                    key=key,
                    status=201,
                    response={"order_id": order_id},
                    resource_id=order_id,
                )
            try:
                order = await orders.place_order(
                    repo,
                    orders.PlaceOrder(order_id, principal.sub, body.dish_id, body.quantity, corr),
                    payment_window_s=kitchen.settings.payment_window_s,
                )
            except KitchenError as exc:
                raise _domain_problem(exc) from exc
        kitchen.notify_outbox()
        if order.status == "pending":
            try:
                order = await asyncio.wait_for(asyncio.shield(settled), kitchen.settings.order_wait_s)
            except TimeoutError:
                async with kitchen.db.acquire() as conn:
                    order = await KitchenRepo(conn).order(order_id) or order
    return _order_response(order)


async def _visible_order(request: Request, principal: Principal) -> OrderSnapshot:
    order_id = request.path_params["order_id"]
    async with _kitchen(request).db.acquire() as conn:
        order = await KitchenRepo(conn).order(order_id)
    if order is None or (order.customer_id != principal.sub and not _is_staff(principal)):
        raise NotFound(f"no order with id {order_id!r}", type="unknown-order")
    return order


@api.route(
    "GET",
    f"{PREFIX}/orders/{{order_id}}",
    auth=True,
    responses={200: OrderSnapshot, 404: NotFound},
    summary="One of my orders (staff: any order)",
)
async def get_order(request: Request) -> Response:
    principal = await require_principal(request)
    return json_response(await _visible_order(request, principal))


def _encode_cursor(created: datetime, order_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created.isoformat()}|{order_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, order_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        uuid.UUID(order_id)
        return datetime.fromisoformat(created), order_id
    except Exception as exc:
        raise Unprocessable("malformed cursor", field="cursor") from exc


@api.route(
    "GET",
    f"{PREFIX}/orders",
    auth=True,
    query=PageQuery,
    responses={200: Page[OrderSnapshot]},
    summary="My orders, newest first",
)
async def list_orders(request: Request) -> Response:
    principal = await require_principal(request)
    q = parse_query(request, PageQuery)
    before = _decode_cursor(q.cursor) if q.cursor else None
    async with _kitchen(request).db.acquire() as conn:
        rows = await KitchenRepo(conn).orders_of(principal.sub, before=before, limit=q.limit + 1)
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    nxt = _encode_cursor(rows[-1][1], rows[-1][0].order_id) if more and rows else None
    return json_response(Page[OrderSnapshot](items=[o for o, _ in rows], next_cursor=nxt))


@api.route(
    "POST",
    f"{PREFIX}/orders/{{order_id}}/cancel",
    auth=True,
    responses={200: OrderSnapshot, 404: NotFound, 409: Conflict},
    summary="Cancel a pending or reserved order; its ingredients stay in the pantry",
)
async def cancel_order(request: Request) -> Response:
    kitchen = _kitchen(request)
    principal = await require_principal(request)
    order_id = request.path_params["order_id"]
    try:
        async with kitchen.db.acquire() as conn, conn.transaction():
            order = await orders.cancel_order(
                KitchenRepo(conn),
                order_id,
                by=principal.sub,
                is_staff=_is_staff(principal),
                correlation_id=request.headers.get("correlation-id") or order_id,
            )
    except KitchenError as exc:
        raise _domain_problem(exc) from exc
    kitchen.notify_outbox()
    return json_response(order)


# ------------------------------------------------------------------------------------------ pantry


@api.route(
    "GET",
    f"{PREFIX}/pantry",
    responses={200: list[PantryItem]},
    summary="Per ingredient: on hand, reserved for orders, available",
)
async def pantry(request: Request) -> Response:
    async with _kitchen(request).db.acquire() as conn:
        balances = await KitchenRepo(conn).pantry()
    return json_response(
        [
            PantryItem(
                ingredient=b.ingredient, on_hand=b.on_hand, reserved=b.reserved, available=b.available
            ).model_dump()
            for b in balances
        ]
    )


@api.route(
    "GET",
    f"{PREFIX}/pantry/movements",
    query=PageQuery,
    responses={200: Page[Movement]},
    summary="The pantry ledger, newest first (cursor-paginated)",
)
async def movements(request: Request) -> Response:
    q = parse_query(request, PageQuery)
    async with _kitchen(request).db.acquire() as conn:
        rows = await KitchenRepo(conn).movements(before=id_cursor(q), limit=q.limit + 1)
    items, nxt = id_page(rows, q.limit)
    return json_response(Page[Movement](items=[Movement(**r) for r in items], next_cursor=nxt))
