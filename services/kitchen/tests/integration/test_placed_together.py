"""Orders placed together, on real PostgreSQL and NATS: the orders that come while the reservation
transaction runs go in the next one, each as it would have gone alone (its own pantry, its own
request's correlation id, its own key), and those the group cannot place are placed alone after it."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from brigade_common.testing.waiting import eventually
from brigade_contracts import kitchen as k
from services.kitchen.tests.integration.harness import KitchenClient
from services.kitchen.tests.integration.test_deliveries import blocked_on_locks

ORDERS = "/api/kitchen/orders"
DISH = "pasta-carne-molida"  # carne_molida 5, pasta 7, queso 10: the seed's pantry has pasta for 4 (32)


@pytest.fixture
def kitchen_settings() -> dict[str, object]:
    return {"order_wait_s": 0.5, "payment_window_s": 900, "max_concurrent_reservations": 1}


def _metric(page: str, name: str) -> float:
    found = re.search(rf"^{name} ([0-9.e+-]+)$", page, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def _metrics(kitchen: KitchenClient) -> str:
    return (await kitchen.http.get("/metrics")).text


async def test_orders_that_came_while_one_ran_are_placed_together_each_as_alone(kitchen: KitchenClient) -> None:
    events: dict[str, set[str]] = {}  # order id → the correlation ids of its order events

    async def heard(msg: object) -> None:
        envelope = json.loads(msg.data)  # type: ignore[attr-defined]
        events.setdefault(envelope["data"]["order_id"], set()).add(envelope["correlation_id"])

    sub = await kitchen.app.nc.subscribe(k.ORDER_EVENTS, cb=heard)

    def post(correlation: str, key: str | None = None, dish: str = DISH) -> asyncio.Task[httpx.Response]:
        headers = {**kitchen.auth(), "Correlation-Id": correlation}
        if key is not None:
            headers["Idempotency-Key"] = key
        return asyncio.create_task(kitchen.http.post(ORDERS, json={"dish_id": dish}, headers=headers))

    earlier = await post("corr-earlier", key="k-earlier")
    assert earlier.status_code == 201
    before = await _metrics(kitchen)

    async with kitchen.db.acquire() as holder:  # the dish's rows, held: the first order waits for them
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM pantry WHERE ingredient IN ('carne_molida', 'pasta', 'queso') FOR UPDATE")
        first = post("corr-first")
        await blocked_on_locks(kitchen.db, 1)
        group = {
            "b": post("corr-b", key="k-b"),
            "c": post("corr-c"),
            "replay": post("corr-replay", key="k-earlier"),  # the earlier order's key: a replay
            "twice": post("corr-twice", key="k-b"),  # b's key, in the same group
            "gone": post("corr-gone", dish="no-such-dish"),
            "d": post("corr-d"),
        }

        async def queued() -> bool:
            return _metric(await _metrics(kitchen), "kitchen_orders_waiting") == len(group)

        await eventually(queued, 15, "the six orders waiting for the one transaction that runs")
        await tx.rollback()
        answers = {name: await task for name, task in group.items()}
    assert (await first).status_code == 201

    # b, c and d went in one transaction, in their order, on the pantry as the one before left it:
    # pasta for two more of the four (earlier, first, b, c), none left for d.
    placed = {name: answers[name].json() for name in ("b", "c", "d")}
    assert [placed[n]["status"] for n in ("b", "c", "d")] == ["reserved", "reserved", "pending"]
    assert answers["d"].status_code == 202
    after = await _metrics(kitchen)

    def more(name: str) -> float:
        return _metric(after, name) - _metric(before, name)

    # Two transactions that placed an order (first, the group), the group's three; replays and the
    # unknown dish placed nothing.
    assert more("kitchen_orders_placed_together_count") == 2
    assert more("kitchen_orders_placed_together_sum") == 4
    pasta = (await kitchen.pantry())["pasta"]
    assert (pasta["on_hand"], pasta["reserved"]) == (32, 32)

    # Those the group could not place got what they would have alone.
    assert answers["replay"].status_code == 201 and answers["replay"].headers["Idempotent-Replayed"] == "true"
    assert answers["replay"].json()["order_id"] == earlier.json()["order_id"]
    assert answers["twice"].headers["Idempotent-Replayed"] == "true"
    assert answers["twice"].json()["order_id"] == placed["b"]["order_id"]
    assert answers["gone"].status_code == 404 and answers["gone"].json()["type"].endswith("unknown-dish")
    count = await kitchen.db.fetchval("SELECT count(*) FROM orders")
    assert count == 5  # earlier, first, b, c, d: nothing twice

    # Each order's events carry its own request's correlation id.
    wanted = {placed[n]["order_id"]: {f"corr-{n}"} for n in ("b", "c", "d")}
    await eventually(lambda: all(events.get(o) == c for o, c in wanted.items()), 15, "each order's events")
    await sub.unsubscribe()
