"""The pantry channel alone keeps a pantry table right, on real PostgreSQL and NATS: after placing,
a delivery, serving, cancelling and expiring, a reader that loaded the pantry and then applied the
stream's `kitchen.pantry.*` events by version has exactly what `GET /api/kitchen/pantry` shows, versions
included, and the movements it was told of are the ledger's rows with the ledger's times."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import pytest
from nats.aio.msg import Msg

from brigade_common.envelope import Envelope
from brigade_common.testing.waiting import eventually
from brigade_contracts.kitchen import PANTRY_EVENTS, PANTRY_HELD, PANTRY_MOVED
from brigade_contracts.warehouse import SUPPLY_DELIVERED, SupplyDelivered
from services.kitchen.tests.integration.harness import KitchenClient
from services.kitchen.tests.integration.test_payments import pay

ORDERS = "/api/kitchen/orders"
Rows = dict[str, dict[str, Any]]


class Reader:
    """A page's pantry: a loaded snapshot, then every pantry event applied over an older version."""

    def __init__(self, loaded: Rows) -> None:
        self.rows = {name: dict(row) for name, row in loaded.items()}
        self.movements: dict[int, dict[str, Any]] = {}
        self.types: list[str] = []

    def balance(self, row: dict[str, Any]) -> None:
        held = self.rows.get(row["ingredient"])
        if held is None or held["version"] < row["version"]:
            on_hand, reserved = row["on_hand"], row["reserved"]
            self.rows[row["ingredient"]] = {
                "ingredient": row["ingredient"],
                "on_hand": on_hand,
                "reserved": reserved,
                "available": on_hand - reserved,
                "version": row["version"],
            }

    async def on_message(self, msg: Msg) -> None:
        env = Envelope.from_bytes(msg.data)
        self.types.append(env.type)
        if env.type == PANTRY_HELD:
            for row in env.data["balances"]:
                self.balance(row)
        elif env.type == PANTRY_MOVED:
            self.balance(env.data)
            self.movements[env.data["movement_id"]] = env.data


@asynccontextmanager
async def reading(kitchen: KitchenClient, loaded: Rows) -> AsyncIterator[Reader]:
    """Follow the pantry events from the start of the stream, as a replay then live."""
    reader = Reader(loaded)
    sub = await kitchen.app.nc.jetstream().subscribe(
        PANTRY_EVENTS, stream="KITCHEN", ordered_consumer=True, cb=reader.on_message
    )
    try:
        yield reader
    finally:
        await sub.unsubscribe()


async def ends_like_a_fresh_load(kitchen: KitchenClient, *readers: Reader) -> Rows:
    async def same() -> Rows | None:
        fresh = await kitchen.pantry()
        return fresh if all(r.rows == fresh for r in readers) else None

    return await eventually(same, 15, "every reader's pantry equal to a fresh read")


async def order(kitchen: KitchenClient, dish: str, quantity: int = 1) -> dict[str, Any]:
    r = await kitchen.http.post(ORDERS, json={"dish_id": dish, "quantity": quantity}, headers=kitchen.auth())
    assert r.status_code in (201, 202), r.text
    body: dict[str, Any] = r.json()
    return body


async def status_of(kitchen: KitchenClient, order_id: str, wanted: str) -> None:
    async def reached() -> bool:
        r = await kitchen.http.get(f"{ORDERS}/{order_id}", headers=kitchen.auth())
        return bool(r.json()["status"] == wanted)

    await eventually(reached, 15, f"order {order_id} {wanted}")


async def test_place_deliver_serve_and_cancel_each_reach_a_reader_of_the_pantry_channel(
    kitchen: KitchenClient,
) -> None:
    seeded = await kitchen.pantry()
    assert {row["version"] for row in seeded.values()} == {1}  # the seed is each row's first change
    async with reading(kitchen, seeded) as first:
        # Placed short of lechuga (4 of 5): held what there is, one unit asked of the warehouse.
        short = await order(kitchen, "ensalada-cesar")
        assert short["status"] == "pending"
        await ends_like_a_fresh_load(kitchen, first)
        # A page loads now; it then hears every event from the stream's start, older ones included.
        async with reading(kitchen, await kitchen.pantry()) as second:
            [request_id] = await kitchen.db.fetchval(
                "SELECT array_agg(id::text) FROM supply_requests WHERE order_id = $1::uuid", short["order_id"]
            )
            delivered = Envelope.wrap(
                SUPPLY_DELIVERED,
                SupplyDelivered(request_id=request_id, order_id=short["order_id"], ingredient="lechuga", amount=3),
            )
            await kitchen.app.nc.jetstream().publish(delivered.type, delivered.to_bytes(), headers=delivered.headers())
            await status_of(kitchen, short["order_id"], "reserved")
            await pay(kitchen, short, "pay-short")
            await status_of(kitchen, short["order_id"], "served")
            cancelled = await order(kitchen, "pan-simple", 2)
            assert cancelled["status"] == "reserved"
            r = await kitchen.http.post(f"{ORDERS}/{cancelled['order_id']}/cancel", headers=kitchen.auth())
            assert r.json()["status"] == "cancelled"

            fresh = await ends_like_a_fresh_load(kitchen, first, second)
    assert (fresh["lechuga"]["on_hand"], fresh["lechuga"]["reserved"], fresh["lechuga"]["version"]) == (2, 0, 4)
    assert (fresh["jamon"]["on_hand"], fresh["jamon"]["reserved"], fresh["jamon"]["version"]) == (86, 0, 3)
    # Held on placing, released on cancel, one event per order each time; the ledger's rows as movements.
    assert first.types.count(PANTRY_HELD) == 3
    ledger = (await kitchen.http.get("/api/kitchen/pantry/movements?limit=100", headers=kitchen.staff())).json()
    told = {i: m for i, m in first.movements.items()}
    for row in ledger["items"]:
        if row["reason"] == "seed":
            continue
        event = told.pop(row["id"])
        assert (event["ingredient"], event["delta"], event["reason"]) == (
            row["ingredient"],
            row["delta"],
            row["reason"],
        )
        assert datetime.fromisoformat(event["created_at"]) == datetime.fromisoformat(row["created_at"])
    assert told == {}


@pytest.mark.parametrize("kitchen_settings", [{"order_wait_s": 0.5, "payment_window_s": 1, "sweep_s": 0.3}])
async def test_an_expired_order_releases_its_holds_on_the_pantry_channel(kitchen: KitchenClient) -> None:
    seeded = await kitchen.pantry()
    async with reading(kitchen, seeded) as reader:
        placed = await order(kitchen, "pan-simple")
        assert placed["status"] == "reserved"
        await status_of(kitchen, placed["order_id"], "expired")
        fresh = await ends_like_a_fresh_load(kitchen, reader)
    assert (fresh["jamon"]["reserved"], fresh["jamon"]["version"]) == (0, seeded["jamon"]["version"] + 2)
    assert reader.types == [PANTRY_HELD, PANTRY_HELD]
