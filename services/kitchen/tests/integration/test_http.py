"""Kitchen's HTTP contract: bad input is refused with problem+json naming the field, and writes nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from brigade_common.envelope import Envelope
from brigade_common.testing.waiting import eventually
from services.kitchen.tests.integration.harness import KitchenClient

ORDERS = "/api/kitchen/orders"


async def write_counts(k: KitchenClient) -> tuple[int, int, int, int]:
    row = await k.db.fetchrow(
        "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM outbox), "
        "(SELECT sum(reserved) FROM pantry), (SELECT count(*) FROM supply_requests)"
    )
    assert row is not None
    return tuple(row)  # type: ignore[return-value]


async def test_an_order_of_a_dish_that_does_not_exist_is_a_404_naming_dish_id_and_writes_nothing(
    kitchen: KitchenClient,
) -> None:
    """Seed 000: an unknown dish id crashed the handler."""
    before = await write_counts(kitchen)
    r = await kitchen.http.post(ORDERS, json={"dish_id": "no-such-dish", "quantity": 1}, headers=kitchen.auth())
    assert r.status_code == 404, r.text
    assert r.json()["type"].endswith("/unknown-dish")
    assert [e["field"] for e in r.json()["errors"]] == ["dish_id"]
    assert await write_counts(kitchen) == before


async def test_a_whole_number_written_with_a_point_is_a_quantity(kitchen: KitchenClient) -> None:
    r = await kitchen.http.post(ORDERS, json={"dish_id": "pan-simple", "quantity": 2.0}, headers=kitchen.auth())
    assert r.status_code == 201, r.text
    assert r.json()["quantity"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dish_id": "pan\u0000simple", "quantity": 1}, "dish_id"),
        ({"dish_id": "Pan Simple", "quantity": 1}, "dish_id"),
        ({"dish_id": "pan-simple", "quantity": 0}, "quantity"),
        ({"dish_id": "pan-simple", "quantity": -1}, "quantity"),
        ({"dish_id": "pan-simple", "quantity": 10**9}, "quantity"),
        ({"dish_id": "pan-simple", "quantity": "x"}, "quantity"),
        ({"dish_id": "pan-simple", "quantity": "2"}, "quantity"),
        ({"dish_id": "pan-simple", "quantity": True}, "quantity"),
        ({"dish_id": "pan-simple", "quantity": 1.5}, "quantity"),
        ({"quantity": 1}, "dish_id"),
        ({"dish_id": 42, "quantity": 1}, "dish_id"),
        ({"dish_id": "pan-simple", "quantity": 1, "price": 0}, "price"),
    ],
)
async def test_bad_orders_are_refused_naming_the_field_and_nothing_is_written(
    kitchen: KitchenClient, body: dict[str, object], field: str
) -> None:
    before = await write_counts(kitchen)
    r = await kitchen.http.post(ORDERS, json=body, headers=kitchen.auth())
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await write_counts(kitchen) == before


@pytest.mark.parametrize(
    ("content", "headers", "status", "field"),
    [
        (b'{"dish_id": "pan-simple",', {"content-type": "application/json"}, 400, "body"),
        (b"", {"content-type": "application/json"}, 400, "body"),
        (b"dish_id=pan-simple", {"content-type": "application/x-www-form-urlencoded"}, 415, "content-type"),
        (b'{"dish_id": "' + b"a" * 100_000 + b'"}', {"content-type": "application/json"}, 413, "body"),
        (b"[1, 2]", {"content-type": "application/json"}, 422, None),
    ],
)
async def test_malformed_or_oversized_bodies_get_a_problem(
    kitchen: KitchenClient, content: bytes, headers: dict[str, str], status: int, field: str | None
) -> None:
    before = await write_counts(kitchen)
    r = await kitchen.http.post(ORDERS, content=content, headers={**headers, **kitchen.auth()})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field:
        assert field in [e["field"] for e in r.json()["errors"]]
    assert await write_counts(kitchen) == before


async def test_writes_need_a_valid_token(kitchen: KitchenClient) -> None:
    body = {"dish_id": "pan-simple", "quantity": 1}
    assert (await kitchen.http.post(ORDERS, json=body)).status_code == 401
    r = await kitchen.http.post(ORDERS, json=body, headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert (await write_counts(kitchen))[0] == 0


async def test_an_order_the_pantry_covers_is_reserved_at_once(kitchen: KitchenClient) -> None:
    r = await kitchen.http.post(ORDERS, json={"dish_id": "pan-simple", "quantity": 2}, headers=kitchen.auth())
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "reserved" and order["total_cents"] == 900 and order["expires_at"]
    pantry = await kitchen.pantry()
    assert pantry["jamon"] == {"ingredient": "jamon", "on_hand": 86, "reserved": 10, "available": 76, "version": 2}
    got = (await kitchen.http.get(f"{ORDERS}/{order['order_id']}", headers=kitchen.auth())).json()
    assert got == order  # the answer says when it was placed and changed, as the order says later
    assert order["created_at"] == order["updated_at"]  # placed, then reserved in the same commit
    # Someone else's order is invisible to another customer, visible to staff.
    assert (await kitchen.http.get(f"{ORDERS}/{order['order_id']}", headers=kitchen.auth("bob"))).status_code == 404
    staff = await kitchen.http.get(f"{ORDERS}/{order['order_id']}", headers=kitchen.auth("ana", ("staff",)))
    assert staff.status_code == 200


async def test_a_short_order_answers_202_with_a_location_when_the_warehouse_is_silent(
    kitchen: KitchenClient,
) -> None:
    r = await kitchen.http.post(ORDERS, json={"dish_id": "ensalada-cesar", "quantity": 1}, headers=kitchen.auth())
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending"
    assert r.headers["location"] == f"{ORDERS}/{r.json()['order_id']}"
    requests = await kitchen.db.fetch("SELECT ingredient, amount FROM supply_requests")
    assert [dict(x) for x in requests] == [{"ingredient": "lechuga", "amount": 1}]


async def test_the_same_idempotency_key_gives_the_same_order_and_reserves_once(kitchen: KitchenClient) -> None:
    """Seed 004: placing ORDER_001 many times changes stock once, even when the retries race."""
    headers = {**kitchen.auth(), "Idempotency-Key": "ORDER_001"}
    body = {"dish_id": "pan-simple", "quantity": 1}
    responses = await asyncio.gather(*(kitchen.http.post(ORDERS, json=body, headers=headers) for _ in range(5)))
    assert {r.json()["order_id"] for r in responses} == {responses[0].json()["order_id"]}
    assert {r.status_code for r in responses} == {201}
    pantry = await kitchen.pantry()
    assert pantry["jamon"]["reserved"] == 5
    other = await kitchen.http.post(ORDERS, json={**body, "quantity": 2}, headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    # Another customer's identical key is a different order.
    mine = await kitchen.http.post(ORDERS, json=body, headers={**kitchen.auth("bob"), "Idempotency-Key": "ORDER_001"})
    assert mine.json()["order_id"] != responses[0].json()["order_id"]


async def test_cancel_releases_the_hold_and_only_the_owner_may_cancel(kitchen: KitchenClient) -> None:
    order = (await kitchen.http.post(ORDERS, json={"dish_id": "pan-simple"}, headers=kitchen.auth())).json()
    url = f"{ORDERS}/{order['order_id']}/cancel"
    assert (await kitchen.http.post(url, headers=kitchen.auth("mallory"))).status_code == 404
    r = await kitchen.http.post(url, headers=kitchen.auth())
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    cancelled = r.json()
    assert cancelled["created_at"] == order["created_at"]
    assert datetime.fromisoformat(cancelled["updated_at"]) > datetime.fromisoformat(order["updated_at"])
    assert (await kitchen.http.get(f"{ORDERS}/{order['order_id']}", headers=kitchen.auth())).json() == cancelled
    pantry = await kitchen.pantry()
    # Held, then released: the row's seed, hold and release are its three changes.
    assert pantry["jamon"] == {"ingredient": "jamon", "on_hand": 86, "reserved": 0, "available": 86, "version": 3}


async def test_menu_lists_dishes_and_todays_menu_is_seven_stable_dishes(kitchen: KitchenClient) -> None:
    dishes = (await kitchen.http.get("/api/kitchen/dishes")).json()
    assert {"ensalada-cesar", "pasta-carne-molida", "pan-simple"} <= {d["id"] for d in dishes}
    cesar = (await kitchen.http.get("/api/kitchen/dishes/ensalada-cesar")).json()
    assert cesar["ingredients"] == {"lechuga": 5, "pollo": 2}
    today = (await kitchen.http.get("/api/kitchen/dishes/today")).json()
    assert len(today) == 7
    assert today == (await kitchen.http.get("/api/kitchen/dishes/today")).json()
    assert (await kitchen.http.get("/api/kitchen/dishes/nope")).status_code == 404


async def test_movements_are_newest_first_and_paginate(kitchen: KitchenClient) -> None:
    first = (
        await kitchen.http.get("/api/kitchen/pantry/movements", params={"limit": 4}, headers=kitchen.staff())
    ).json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    ids = [m["id"] for m in first["items"]]
    assert ids == sorted(ids, reverse=True)
    rest = (
        await kitchen.http.get(
            "/api/kitchen/pantry/movements",
            params={"limit": 100, "cursor": first["next_cursor"]},
            headers=kitchen.staff(),
        )
    ).json()
    assert len(rest["items"]) == 9 - 4 and rest["next_cursor"] is None
    bad = await kitchen.http.get("/api/kitchen/pantry/movements", params={"limit": 0}, headers=kitchen.staff())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "limit"


async def test_openapi_describes_every_route_with_its_schemas(kitchen: KitchenClient) -> None:
    doc = (await kitchen.http.get("/api/kitchen/openapi.json")).json()
    post = doc["paths"]["/api/kitchen/orders"]["post"]
    assert "requestBody" in post and {"201", "202", "422"} <= set(post["responses"])
    assert "PlaceOrderBody" in doc["components"]["schemas"]


async def test_readiness_checks_the_database_nats_and_migrations(kitchen: KitchenClient) -> None:
    r = await kitchen.http.get("/readyz")
    assert r.status_code == 200, r.text
    assert set(r.json()["checks"]) == {"database", "nats", "migrations"}


async def test_one_correlation_id_from_the_request_runs_through_the_events_it_causes(kitchen: KitchenClient) -> None:
    js = kitchen.app.nc.jetstream()
    given = await kitchen.http.post(
        ORDERS, json={"dish_id": "pan-simple"}, headers={**kitchen.auth(), "Correlation-Id": "saga-7"}
    )
    made = await kitchen.http.post(ORDERS, json={"dish_id": "pan-simple"}, headers=kitchen.auth())
    for response, expected in ((given, "saga-7"), (made, made.headers["x-request-id"])):
        order_id = response.json()["order_id"]

        async def events(order_id: str = order_id) -> list[Envelope] | None:
            found = []
            info = await js.stream_info("KITCHEN")
            if not info.state.messages:
                return None
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                env = Envelope.from_bytes((await js.get_msg("KITCHEN", seq)).data or b"")
                if env.data.get("order_id") == order_id:
                    found.append(env)
            return found if len(found) >= 3 else None  # placed, reserved, the expiry schedule

        published = await eventually(events, 10, f"the events of {order_id}")
        assert {env.correlation_id for env in published} == {expected}


async def test_an_oversized_correlation_id_is_refused_naming_the_header_and_writes_nothing(
    kitchen: KitchenClient,
) -> None:
    before = await write_counts(kitchen)
    r = await kitchen.http.post(
        ORDERS, json={"dish_id": "pan-simple"}, headers={**kitchen.auth(), "Correlation-Id": "c" * 129}
    )
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == ["Correlation-Id"]
    assert await write_counts(kitchen) == before


@pytest.mark.parametrize("kitchen_settings", [{"order_wait_s": 0.5, "idempotency_purge_s": 0.2}])
async def test_idempotency_keys_older_than_a_day_are_purged_while_the_kitchen_runs(kitchen: KitchenClient) -> None:
    for key in ("yesterday", "today"):
        r = await kitchen.http.post(
            ORDERS, json={"dish_id": "pan-simple"}, headers={**kitchen.auth(), "Idempotency-Key": key}
        )
        assert r.status_code == 201
    await kitchen.db.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'yesterday'"
    )

    async def purged() -> bool:
        return await kitchen.db.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["today"]

    await eventually(purged, 10, "the day-old key purged")


async def held(k: KitchenClient) -> tuple[int, float]:
    """`kitchen_pantry_hold_seconds` of the kitchen's /metrics: (orders that held rows, seconds held)."""
    text = (await k.http.get("/metrics")).text
    values = {
        name: float(value)
        for name, value in (line.split(" ", 1) for line in text.splitlines() if line.startswith("kitchen_pantry_hold"))
    }
    return int(values["kitchen_pantry_hold_seconds_count"]), values["kitchen_pantry_hold_seconds_sum"]


async def test_the_metrics_say_how_long_each_new_order_held_its_pantry_rows(kitchen: KitchenClient) -> None:
    """What `make bench` reads the lock's ceiling from: new orders count, a replay and a refusal do not."""
    count, seconds = await held(kitchen)
    headers = {**kitchen.auth(), "Idempotency-Key": "HOLD_001"}
    for _ in range(2):  # the second is a replay: it reads the first's order and locks nothing
        r = await kitchen.http.post(ORDERS, json={"dish_id": "pan-simple", "quantity": 1}, headers=headers)
        assert r.status_code == 201, r.text
    r = await kitchen.http.post(ORDERS, json={"dish_id": "pan-simple", "quantity": 1}, headers=kitchen.auth())
    assert r.status_code == 201, r.text
    unknown = await kitchen.http.post(ORDERS, json={"dish_id": "no-such-dish", "quantity": 1}, headers=kitchen.auth())
    assert unknown.status_code == 404
    after_count, after_seconds = await held(kitchen)
    assert after_count - count == 2
    assert 0 < after_seconds - seconds < 10
