"""The warehouse's HTTP API: its OpenAPI document, the stock, and newest-first cursor pagination."""

from __future__ import annotations

from typing import Any

import pytest

from services.warehouse.tests.integration.harness import WarehouseClient, command, market

PATHS = ("/api/warehouse/stock", "/api/warehouse/stock/movements", "/api/warehouse/purchases")
PAGED = PATHS[1:]


async def make_history(wh: WarehouseClient, nats_url: str) -> None:
    """Enough purchases and movements to page through: 12 pollo bought at most one unit at a time."""
    cmd = command("pollo", 12)
    async with market(nats_url, seed=4, max_units=1):
        await wh.send(cmd)
        await wh.outcome(cmd["request_id"])


async def test_openapi_documents_every_route_with_its_models(warehouse: WarehouseClient) -> None:
    r = await warehouse.http.get("/api/warehouse/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "Brigade warehouse"
    assert set(PATHS) <= set(doc["paths"])
    schemas = doc["components"]["schemas"]
    assert {"StockItem", "StockMovement", "Purchase"} <= set(schemas)
    assert set(schemas["StockMovement"]["required"]) >= {"id", "ingredient", "delta", "reason", "created_at"}
    for path in PAGED:
        op = doc["paths"][path]["get"]
        params = {p["name"]: p for p in op["parameters"]}
        assert set(params) == {"cursor", "limit"}
        assert (params["limit"]["schema"]["minimum"], params["limit"]["schema"]["maximum"]) == (1, 500)
        assert "422" in op["responses"]


@pytest.mark.parametrize("path", PATHS)
async def test_the_warehouse_is_for_staff(warehouse: WarehouseClient, path: str) -> None:
    anonymous = await warehouse.http.get(path, headers={"Authorization": ""})
    assert anonymous.status_code == 401
    customer = await warehouse.http.get(path, headers=warehouse.keys.auth("customer-demo", ("customer",)))
    assert customer.status_code == 403
    assert customer.json()["type"].endswith("insufficient-role")


async def test_stock_lists_every_ingredient(warehouse: WarehouseClient) -> None:
    r = await warehouse.http.get("/api/warehouse/stock")
    assert r.status_code == 200
    seeded = [
        {"ingredient": "lechuga", "on_hand": 2, "reserved": 0, "version": 1},
        {"ingredient": "pollo", "on_hand": 4, "reserved": 0, "version": 1},
    ]
    assert r.json() == seeded


@pytest.mark.parametrize("path", PAGED)
async def test_pages_are_newest_first_and_cover_everything_once(
    warehouse: WarehouseClient, nats_url: str, path: str
) -> None:
    await make_history(warehouse, nats_url)
    everything = (await warehouse.http.get(path, params={"limit": 500})).json()
    assert everything["next_cursor"] is None
    assert len(everything["items"]) > 6

    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        r = await warehouse.http.get(path, params=params)
        assert r.status_code == 200, r.text
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
        assert cursor == str(pages[-1][-1]["id"])

    assert all(len(p) == 3 for p in pages[:-1]) and 1 <= len(pages[-1]) <= 3
    flat = [item for page in pages for item in page]
    assert flat == everything["items"]
    ids = [item["id"] for item in flat]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


async def test_default_page_size_and_an_empty_last_page(warehouse: WarehouseClient) -> None:
    page = (await warehouse.http.get("/api/warehouse/stock/movements")).json()
    assert [(m["ingredient"], m["delta"], m["reason"]) for m in page["items"]] == [
        ("pollo", 4, "seed"),
        ("lechuga", 2, "seed"),
    ]
    assert page["next_cursor"] is None
    # Exactly a page full: no cursor promises a page that would be empty.
    assert (await warehouse.http.get("/api/warehouse/stock/movements", params={"limit": 2})).json()[
        "next_cursor"
    ] is None
    assert (await warehouse.http.get("/api/warehouse/purchases")).json() == {"items": [], "next_cursor": None}
    # Below the oldest row there is nothing.
    oldest = page["items"][-1]["id"]
    below = (await warehouse.http.get("/api/warehouse/stock/movements", params={"cursor": str(oldest)})).json()
    assert below == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": "-1"}, "cursor"),
    ],
)
async def test_bad_paging_parameters_get_a_problem_naming_the_field(
    warehouse: WarehouseClient, path: str, params: dict[str, Any], field: str
) -> None:
    r = await warehouse.http.get(path, params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_health(warehouse: WarehouseClient) -> None:
    assert (await warehouse.http.get("/healthz")).status_code == 200
    r = await warehouse.http.get("/readyz")
    assert r.status_code == 200, r.text


async def test_readiness_checks_the_database_nats_and_migrations(warehouse: WarehouseClient) -> None:
    r = await warehouse.http.get("/readyz")
    assert set(r.json()["checks"]) >= {"database", "nats", "migrations"}
