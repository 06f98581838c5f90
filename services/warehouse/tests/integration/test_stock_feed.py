"""The warehouse's events alone keep a stock table right, on real PostgreSQL and NATS: a reader that
loaded the stock (before or in the middle of the supplies) and then applied every stock event by
version has exactly what `GET /api/warehouse/stock` shows, versions included; the movements and
purchases it was told of are the ledger's rows with the ledger's times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from brigade_contracts import warehouse as w
from services.warehouse.tests.integration.harness import WarehouseClient, command, market, settled

Rows = dict[str, dict[str, Any]]


async def stock_rows(wh: WarehouseClient) -> Rows:
    """Each row as far as the events tell it: its hold (`reserved`) is no movement, and no event carries it."""
    r = await wh.http.get("/api/warehouse/stock")
    assert r.status_code == 200, r.text
    return {row["ingredient"]: {k: row[k] for k in ("ingredient", "on_hand", "version")} for row in r.json()}


def followed(loaded: Rows, events: list[dict[str, Any]]) -> Rows:
    rows = {name: dict(row) for name, row in loaded.items()}
    for moved in events:
        held = rows.get(moved["ingredient"])
        if held is None or held["version"] < moved["version"]:
            rows[moved["ingredient"]] = {
                "ingredient": moved["ingredient"],
                "on_hand": moved["balance"],
                "version": moved["version"],
            }
    return rows


def same_rows(told: list[dict[str, Any]], key: str, ledger: list[dict[str, Any]], fields: tuple[str, ...]) -> None:
    """Every ledger row was told once, with its fields and its own time."""
    by_id = {event[key]: event for event in told}
    assert len(by_id) == len(told)
    for row in ledger:
        event = by_id.pop(row["id"])
        assert {f: event[f] for f in fields} == {f: row[f] for f in fields}
        assert datetime.fromisoformat(event["created_at"]) == datetime.fromisoformat(row["created_at"])
    assert by_id == {}


async def test_a_reader_of_the_stock_events_ends_with_the_stock_a_fresh_read_shows(
    warehouse: WarehouseClient, nats_url: str
) -> None:
    seeded = await stock_rows(warehouse)
    assert {row["version"] for row in seeded.values()} == {1}
    async with market(nats_url, seed=3, max_units=2):
        first = command("pollo", 9)  # buys pollo a few units at a time, then sends it
        await warehouse.send(first)
        await warehouse.outcome(first["request_id"])
        midway = await stock_rows(warehouse)  # a page loads here, then hears the events from the start
        second = command("lechuga", 5)  # lechuga 2 in stock: buys the rest
        await warehouse.send(second)
        await warehouse.outcome(second["request_id"])
        await settled(warehouse)

    moves = [env.data for _, env in await warehouse.stream(w.STOCK_MOVED)]
    fresh = await stock_rows(warehouse)
    assert followed(seeded, moves) == fresh == followed(midway, moves)
    assert fresh["pollo"]["version"] == 1 + len([m for m in moves if m["ingredient"] == "pollo"])
    assert fresh["lechuga"]["version"] > midway["lechuga"]["version"]  # the page loaded midway heard the rest

    ledger = [m for m in await warehouse.all_pages("/api/warehouse/stock/movements") if m["reason"] != "seed"]
    same_rows(moves, "movement_id", ledger, ("ingredient", "delta", "reason", "request_id"))
    bought = [env.data for _, env in await warehouse.stream(w.PURCHASE_MADE)]
    purchases = await warehouse.all_pages("/api/warehouse/purchases")
    assert purchases, "the market was asked"
    same_rows(bought, "purchase_id", purchases, ("request_id", "ingredient", "requested", "received", "supplier"))
