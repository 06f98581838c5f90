"""The order journey on a real cluster, with the warehouse killed mid-way: the order still completes
and not a unit is lost between the warehouse and the kitchen's pantry.

Assumes a quiet system (no other orders while it runs): it reconciles balances before and after.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx
    from conftest import Kube

ORDER_TIMEOUT_S = 240  # the warehouse pod restarts, reconnects and gets its supply command redelivered
MAX_PAGES = 500


def get_json(http: httpx.Client, path: str, **kwargs: Any) -> Any:
    response = http.get(path, **kwargs)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:300]}"
    return response.json()


def all_pages(http: httpx.Client, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        page = get_json(http, path, params={"cursor": cursor} if cursor else None)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items
    pytest.fail(f"{path}: more than {MAX_PAGES} pages")


def ledger_sum(http: httpx.Client, path: str, field: str) -> Counter[str]:
    total: Counter[str] = Counter()
    for row in all_pages(http, path):
        total[row["ingredient"]] += row[field]
    return total


def balances(http: httpx.Client) -> dict[str, Any]:
    return {
        "pantry": {p["ingredient"]: p for p in get_json(http, "/api/kitchen/pantry")},
        "stock": {s["ingredient"]: s["on_hand"] for s in get_json(http, "/api/warehouse/stock")},
        "bought": ledger_sum(http, "/api/warehouse/purchases", "received"),
    }


def warehouse_pods(kube: Kube) -> list[Any]:
    selector = "app.kubernetes.io/component=warehouse,brigade.io/workload=server"
    return kube.core.list_namespaced_pod(kube.namespace, label_selector=selector).items


def test_every_rollout_completes(rolled_out: Kube) -> None:
    deployments = {d.metadata.name for d in rolled_out.apps.list_namespaced_deployment(rolled_out.namespace).items}
    assert {"kitchen", "warehouse", "market", "web"} <= deployments


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html"),
        ("/api/kitchen/openapi.json", "application/json"),
        ("/api/warehouse/openapi.json", "application/json"),
        ("/api/market/openapi.json", "application/json"),
        ("/api/kitchen/dishes", "application/json"),
    ],
)
def test_the_ingress_answers(http: httpx.Client, path: str, content_type: str) -> None:
    response = http.get(path)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    assert response.headers["content-type"].startswith(content_type)


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


def test_an_order_completes_while_the_warehouse_restarts_and_nothing_is_lost(
    http: httpx.Client, rolled_out: Kube, customer_token: str
) -> None:
    kube = rolled_out
    before = balances(http)
    dish, quantity = pick_order(http, before["pantry"])

    # Kill the warehouse outright, then order: the supply command waits in JetStream for the new pod.
    old = {p.metadata.name for p in warehouse_pods(kube)}
    assert old, "no warehouse pod"
    for name in old:
        kube.core.delete_namespaced_pod(name, kube.namespace, grace_period_seconds=0)
    response = http.post(
        "/api/kitchen/orders",
        json={"dish_id": dish["id"], "quantity": quantity},
        headers={"Authorization": f"Bearer {customer_token}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code in (201, 202), f"{response.status_code} {response.text[:300]}"
    order = response.json()
    location = response.headers["location"]
    auth = {"Authorization": f"Bearer {customer_token}"}

    deadline = time.monotonic() + ORDER_TIMEOUT_S
    while order["status"] == "pending" and time.monotonic() < deadline:
        time.sleep(2)
        order = get_json(http, location, headers=auth)
    assert order["status"] == "reserved", f"order ended {order['status']}: {order.get('reason')}"
    assert not old & {p.metadata.name for p in warehouse_pods(kube)}, "the warehouse pod was not replaced"

    after = balances(http)
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

    # Each balance is the sum of its ledger.
    pantry_ledger = ledger_sum(http, "/api/kitchen/pantry/movements", "delta")
    stock_ledger = ledger_sum(http, "/api/warehouse/stock/movements", "delta")
    assert {i: p["on_hand"] for i, p in after["pantry"].items()} == {i: pantry_ledger[i] for i in after["pantry"]}
    assert after["stock"] == {i: stock_ledger[i] for i in after["stock"]}
