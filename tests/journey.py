"""The order journey over Brigade's public HTTP API, shared by the suites that drive a deployed system
from outside (tests/cluster on Kubernetes, tests/images on a container engine): pick an order that
needs a supply run, place it, follow it, and reconcile every balance with its ledger.

Assumes a quiet system (no other orders while it runs): it compares balances before and after.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from brigade_common.testing.waiting import wait_until

MAX_PAGES = 500


def new_customer(http: httpx.Client, name: str) -> str:
    """A customer signed up and in through the auth service, as a person would: its access token."""
    email, password = f"{name}-{uuid.uuid4().hex[:8]}@example.com", f"{uuid.uuid4()}"
    body = {"email": email, "password": password, "display_name": name}
    response = http.post("/api/auth/signup", json=body)
    assert response.status_code == 201, f"sign-up: {response.status_code} {response.text[:300]}"
    response = http.post("/api/auth/signin", json={"email": email, "password": password})
    assert response.status_code == 200, f"sign-in: {response.status_code} {response.text[:300]}"
    http.cookies.clear()  # the token travels as a bearer header
    token: str = response.json()["access_token"]
    return token


def new_staff(http: httpx.Client, name: str, grant_admin: Callable[[str], None]) -> str:
    """A staff member's access token, made as an operator would: a person signs up, the operator runs
    `python -m brigade_auth admin EMAIL` in an auth pod (`grant_admin`, which makes them admin and
    staff), and they sign in again for a token carrying the new roles."""
    email, password = f"{name}-{uuid.uuid4().hex[:8]}@example.com", f"{uuid.uuid4()}"
    body = {"email": email, "password": password, "display_name": name}
    response = http.post("/api/auth/signup", json=body)
    assert response.status_code == 201, f"sign-up: {response.status_code} {response.text[:300]}"
    grant_admin(email)
    response = http.post("/api/auth/signin", json={"email": email, "password": password})
    assert response.status_code == 200, f"sign-in: {response.status_code} {response.text[:300]}"
    http.cookies.clear()
    token: str = response.json()["access_token"]
    assert "staff" in response.json()["user"]["roles"], response.text[:300]
    return token


def get_json(http: httpx.Client, path: str, **kwargs: Any) -> Any:
    response = http.get(path, **kwargs)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:300]}"
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def all_pages(http: httpx.Client, path: str, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        page = get_json(http, path, params={"cursor": cursor} if cursor else None, headers=bearer(token))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items
    pytest.fail(f"{path}: more than {MAX_PAGES} pages")


def ledger_sum(http: httpx.Client, path: str, field: str, token: str) -> Counter[str]:
    total: Counter[str] = Counter()
    for row in all_pages(http, path, token):
        total[row["ingredient"]] += row[field]
    return total


def balances(http: httpx.Client, staff: str) -> dict[str, Any]:
    """The pantry, the stock and what was bought, read with the `staff` token."""
    return {
        "pantry": {p["ingredient"]: p for p in get_json(http, "/api/kitchen/pantry", headers=bearer(staff))},
        "stock": {s["ingredient"]: s["on_hand"] for s in get_json(http, "/api/warehouse/stock", headers=bearer(staff))},
        "bought": ledger_sum(http, "/api/warehouse/purchases", "received", staff),
    }


def pick_order(http: httpx.Client, pantry: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The dish and quantity that need the fewest units the pantry does not have: a supply run."""
    best = None
    for dish in get_json(http, "/api/kitchen/dishes"):
        available = {i: pantry.get(i, {}).get("available", 0) for i in dish["ingredients"]}
        quantity = min(available[i] // n for i, n in dish["ingredients"].items()) + 1
        if best is None or quantity < best[1]:
            best = (dish, quantity)
    assert best is not None, "the kitchen has no dishes"
    return best


def place_order(http: httpx.Client, token: str, dish: dict[str, Any], quantity: int) -> tuple[dict[str, Any], str]:
    """POST the order; returns its first representation and its Location."""
    response = http.post(
        "/api/kitchen/orders",
        json={"dish_id": dish["id"], "quantity": quantity},
        headers={**bearer(token), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code in (201, 202), f"{response.status_code} {response.text[:300]}"
    return response.json(), response.headers["location"]


def follow_order(
    http: httpx.Client, token: str, order: dict[str, Any], location: str, timeout_s: float
) -> dict[str, Any]:
    """Polls the order until it leaves `pending` and returns it; fails after `timeout_s`."""
    if order["status"] != "pending":
        return order

    def settled() -> dict[str, Any] | None:
        latest: dict[str, Any] = get_json(http, location, headers=bearer(token))
        return latest if latest["status"] != "pending" else None

    return wait_until(settled, timeout_s, f"order {location} leaving pending", 0.5)


def assert_reconciled(
    http: httpx.Client, staff: str, before: dict[str, Any], dish: dict[str, Any], quantity: int
) -> dict[str, Any]:
    """Not a unit lost between the warehouse and the pantry, the order's units held, every balance the
    sum of its ledger (read with the `staff` token). Returns the balances after."""
    after = balances(http, staff)
    for ingredient, per_dish in dish["ingredients"].items():
        p0 = before["pantry"].get(ingredient, {"on_hand": 0, "reserved": 0})
        p1 = after["pantry"][ingredient]
        delivered = p1["on_hand"] - p0["on_hand"]
        left_warehouse = (
            before["stock"].get(ingredient, 0)
            + after["bought"][ingredient]
            - before["bought"][ingredient]
            - after["stock"].get(ingredient, 0)
        )
        assert delivered == left_warehouse, f"{ingredient}: {left_warehouse} left the warehouse, {delivered} arrived"
        assert p1["reserved"] - p0["reserved"] == per_dish * quantity, ingredient
    for item in after["pantry"].values():
        assert 0 <= item["reserved"] <= item["on_hand"], item
    assert all(on_hand >= 0 for on_hand in after["stock"].values()), after["stock"]

    pantry_ledger = ledger_sum(http, "/api/kitchen/pantry/movements", "delta", staff)
    stock_ledger = ledger_sum(http, "/api/warehouse/stock/movements", "delta", staff)
    assert {i: p["on_hand"] for i, p in after["pantry"].items()} == {i: pantry_ledger[i] for i in after["pantry"]}
    assert after["stock"] == {i: stock_ledger[i] for i in after["stock"]}
    return after
