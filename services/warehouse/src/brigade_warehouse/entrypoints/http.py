"""Warehouse HTTP routes under /api/warehouse (read-only: the warehouse is driven by commands)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from brigade_common.http import json_response, parse_query
from brigade_common.openapi import OpenAPI
from brigade_common.pagination import Page, PageQuery, id_cursor, id_page
from brigade_common.runtime import Runtime
from brigade_warehouse.adapters.repository import WarehouseRepo

PREFIX = "/api/warehouse"
api = OpenAPI(title="Brigade warehouse", version="1.0.0")


class StockItem(BaseModel):
    ingredient: str
    on_hand: int


class StockMovement(BaseModel):
    id: int
    ingredient: str
    delta: int
    reason: str
    request_id: str | None
    created_at: datetime


class Purchase(BaseModel):
    id: int
    request_id: str
    ingredient: str
    requested: int
    received: int
    supplier: str
    created_at: datetime


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


@api.route("GET", f"{PREFIX}/stock", responses={200: list[StockItem]}, summary="Stock per ingredient")
async def stock(request: Request) -> Response:
    async with _runtime(request).db.acquire() as conn:
        return json_response(await WarehouseRepo(conn).stock())


@api.route(
    "GET",
    f"{PREFIX}/stock/movements",
    query=PageQuery,
    responses={200: Page[StockMovement]},
    summary="The stock ledger, newest first (cursor-paginated)",
)
async def movements(request: Request) -> Response:
    q = parse_query(request, PageQuery)
    async with _runtime(request).db.acquire() as conn:
        rows = await WarehouseRepo(conn).movements(before=id_cursor(q), limit=q.limit + 1)
    items, nxt = id_page(rows, q.limit)
    return json_response(Page[StockMovement](items=[StockMovement(**r) for r in items], next_cursor=nxt))


@api.route(
    "GET",
    f"{PREFIX}/purchases",
    query=PageQuery,
    responses={200: Page[Purchase]},
    summary="Purchases from the market, newest first (cursor-paginated)",
)
async def purchases(request: Request) -> Response:
    q = parse_query(request, PageQuery)
    async with _runtime(request).db.acquire() as conn:
        rows = await WarehouseRepo(conn).purchases(before=id_cursor(q), limit=q.limit + 1)
    items, nxt = id_page(rows, q.limit)
    return json_response(Page[Purchase](items=[Purchase(**r) for r in items], next_cursor=nxt))
