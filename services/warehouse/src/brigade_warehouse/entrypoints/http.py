"""Warehouse HTTP routes under /api/warehouse: read-only (the warehouse is driven by commands), for staff."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from brigade_common.http import json_response
from brigade_common.openapi import OpenAPI
from brigade_common.pagination import IdPageQuery, Page, id_page
from brigade_contracts.auth import Role
from brigade_contracts.warehouse import StockReason
from brigade_warehouse.service.warehouse import Warehouse

PREFIX = "/api/warehouse"
api = OpenAPI(title="Brigade warehouse", version="1.0.0")
STAFF = (Role.STAFF,)


class StockItem(BaseModel):
    ingredient: str
    on_hand: int = Field(ge=0)
    reserved: int = Field(
        ge=0,
        description="Of `on_hand`, the units held for requests that are buying the rest at the market: no other "
        "request takes them (`on_hand - reserved` is free)",
    )
    version: int = Field(ge=0, description="Grows with every movement of the row: `StockMoved` carries it too")


class StockMovement(BaseModel):
    id: int
    ingredient: str
    delta: int
    reason: StockReason
    request_id: str | None
    created_at: datetime


class Purchase(BaseModel):
    id: int
    request_id: str
    ingredient: str
    requested: int = Field(gt=0)
    received: int = Field(ge=0)
    supplier: str
    created_at: datetime


def _warehouse(request: Request) -> Warehouse:
    warehouse: Warehouse = request.app.state.warehouse
    return warehouse


@api.route("GET", f"{PREFIX}/stock", auth=STAFF, responses={200: list[StockItem]}, summary="Stock per ingredient")
async def stock(request: Request) -> Response:
    items = await _warehouse(request).views.stock()
    return json_response([StockItem(**vars(i)) for i in items])


@api.route(
    "GET",
    f"{PREFIX}/stock/movements",
    auth=STAFF,
    query=IdPageQuery,
    responses={200: Page[StockMovement]},
    summary="The stock ledger, newest first (cursor-paginated)",
)
async def movements(request: Request, *, query: IdPageQuery) -> Response:
    rows = await _warehouse(request).views.movements(before=query.before(), limit=query.limit + 1)
    items, nxt = id_page(rows, query.limit)
    return json_response(Page[StockMovement](items=[StockMovement(**vars(m)) for m in items], next_cursor=nxt))


@api.route(
    "GET",
    f"{PREFIX}/purchases",
    auth=STAFF,
    query=IdPageQuery,
    responses={200: Page[Purchase]},
    summary="Purchases from the market, newest first (cursor-paginated)",
)
async def purchases(request: Request, *, query: IdPageQuery) -> Response:
    rows = await _warehouse(request).views.purchases(before=query.before(), limit=query.limit + 1)
    items, nxt = id_page(rows, query.limit)
    return json_response(Page[Purchase](items=[Purchase(**vars(p)) for p in items], next_cursor=nxt))
