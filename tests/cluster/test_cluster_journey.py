"""The order journey on a real cluster, with the warehouse killed mid-way: the order still completes
and not a unit is lost between the warehouse and the kitchen's pantry.

Marked `kubelet`: they need real pods behind the Ingress, so they run in `make test-cluster` only;
the rollout check runs on the local control plane too.

Assumes a quiet system (no other orders while it runs): it reconciles balances before and after
(tests/journey.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.journey import assert_reconciled, balances, follow_order, pick_order, place_order

if TYPE_CHECKING:
    import httpx

    from tests.cluster.kube import Kube

ORDER_TIMEOUT_S = 240  # the warehouse pod restarts, reconnects and gets its supply command redelivered


def warehouse_pods(kube: Kube) -> list[Any]:
    selector = "app.kubernetes.io/component=warehouse,brigade.io/workload=server"
    return kube.core.list_namespaced_pod(kube.namespace, label_selector=selector).items


def test_every_rollout_completes(rolled_out: Kube) -> None:
    deployments = {d.metadata.name for d in rolled_out.apps.list_namespaced_deployment(rolled_out.namespace).items}
    assert {"kitchen", "warehouse", "market", "web"} <= deployments


@pytest.mark.kubelet
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


@pytest.mark.kubelet
def test_an_order_completes_while_the_warehouse_restarts_and_nothing_is_lost(
    http: httpx.Client, rolled_out: Kube, customer_token: str, staff_token: str
) -> None:
    kube = rolled_out
    before = balances(http, staff_token)
    dish, quantity = pick_order(http, before["pantry"])

    # Kill the warehouse outright, then order: the supply command waits in JetStream for the new pod.
    old = {p.metadata.name for p in warehouse_pods(kube)}
    assert old, "no warehouse pod"
    for name in old:
        kube.core.delete_namespaced_pod(name, kube.namespace, grace_period_seconds=0)
    order, location = place_order(http, customer_token, dish, quantity)
    order = follow_order(http, customer_token, order, location, ORDER_TIMEOUT_S)
    assert order["status"] == "reserved", f"order ended {order['status']}: {order.get('reason')}"
    assert not old & {p.metadata.name for p in warehouse_pods(kube)}, "the warehouse pod was not replaced"
    assert_reconciled(http, staff_token, before, dish, quantity)
