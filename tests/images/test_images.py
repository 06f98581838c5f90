"""The images themselves, and Brigade installed from its charts onto them, with no cluster.

Each profile (skaffold's `kind` dev profile and the production-like `prod`) gets a fresh system: the
hook Jobs migrate and seed, every Deployment's pod starts under its securityContext and limits and
passes its probe, and the order journey runs through the Ingress routes, with the warehouse's pod
deleted in the middle.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from brigade_common.testing.waiting import wait_until
from tests.images.conftest import System
from tests.images.engine import Engine, image_size, skaffold_artifacts
from tests.journey import assert_reconciled, balances, follow_order, get_json, pick_order, place_order

BASE = "brigade-base"
ORDER_TIMEOUT_S = 120
# A service image is the shared base plus its own sources (and the web app): anything bigger means the
# build context leaks something (a virtualenv, node_modules, test data).
SERVICE_LAYERS_BUDGET = 10 * 1024 * 1024


def test_every_image_runs_as_the_non_root_brigade_user(engine: Engine, images: dict[str, str]) -> None:
    for name, ref in images.items():
        user = engine.run("image", "inspect", "--format", "{{.Config.User}}", ref).stdout.strip()
        assert user == "10001:10001", f"{name} runs as {user!r}"
        uid = engine.run("run", "--rm", "--entrypoint", "id", ref, "-u").stdout.strip()
        assert uid == "10001", name


def test_no_build_tool_or_cache_reaches_an_image(engine: Engine, images: dict[str, str]) -> None:
    script = (
        "for tool in uv gcc cc npm node; do command -v $tool && exit 1; done; "
        "test ! -e /root/.cache && test ! -e /app/uv.lock && ! find /app -name node_modules | grep -q ."
    )
    for name, ref in images.items():
        result = engine.run("run", "--rm", "--user", "0", "--entrypoint", "sh", ref, "-c", script, check=False)
        assert result.returncode == 0, f"{name} carries a build tool or cache: {result.stdout}{result.stderr}"


def test_service_images_add_only_their_sources_to_the_base(engine: Engine, images: dict[str, str]) -> None:
    base = image_size(engine, images[BASE])
    sizes = {name: round(image_size(engine, ref) / 1e6) for name, ref in images.items()}
    print(f"\nimage sizes (MB): {sizes}")
    on_base = [a.image for a in skaffold_artifacts() if BASE in a.requires.values()]
    assert {"brigade-kitchen", "brigade-web"} <= set(on_base)
    for name in on_base:
        added = image_size(engine, images[name]) - base
        assert added <= SERVICE_LAYERS_BUDGET, f"{name} adds {added / 1e6:.1f} MB to the base"


@pytest.mark.parametrize("system", ["kind", "prod"], indirect=True)
def test_the_chart_runs_on_the_images_and_an_order_survives_a_warehouse_restart(system: System) -> None:
    http = system.http
    assert http.get("/").status_code == 200
    assert "text/html" in http.get("/").headers["content-type"]
    for service in ("kitchen", "warehouse", "market"):
        assert get_json(http, f"/api/{service}/openapi.json")["openapi"].startswith("3.")

    token = system.token("images-test-customer")
    staff = system.token("images-test-staff", "staff")
    before = balances(http, staff)
    dish, quantity = pick_order(http, before["pantry"])

    system.delete_pods("warehouse")
    order, location = place_order(http, token, dish, quantity)
    assert order["status"] == "pending", "the order cannot be reserved while the warehouse is down"
    system.scale_up("warehouse")
    order = follow_order(http, token, order, location, ORDER_TIMEOUT_S)
    assert order["status"] == "reserved", f"order ended {order['status']}: {order.get('reason')}"
    assert_reconciled(http, staff, before, dish, quantity)


@pytest.mark.parametrize("system", ["kind"], indirect=True)
def test_a_source_edit_synced_into_a_dev_pod_reloads_the_service(system: System) -> None:
    """skaffold dev's file sync: the edited file lands in the pod (tar through exec, as Skaffold does)
    and the service restarts on it without a new image."""
    http = system.http
    kitchen = system.pods["kitchen"][0]
    path = "brigade_kitchen/entrypoints/http.py"
    source = system.runner.engine.run("exec", kitchen.containers[0], "cat", f"/app/services/kitchen/src/{path}").stdout
    assert 'summary="Every dish"' in source

    edited = source.replace('summary="Every dish"', 'summary="Every dish, synced"')
    system.runner.copy_into(kitchen, "/app/services/kitchen/src", {path: edited})

    def summary() -> Any:
        try:
            spec = http.get("/api/kitchen/openapi.json").json()
        except Exception as exc:  # the service is restarting
            return f"{type(exc).__name__}"
        return spec["paths"]["/api/kitchen/dishes"]["get"]["summary"]

    wait_until(lambda: summary() == "Every dish, synced", 60, "the synced edit served", 0.25)
    assert get_json(http, "/api/kitchen/dishes"), "the reloaded kitchen serves its dishes"


@pytest.mark.parametrize("system", ["kind,load"], indirect=True)
def test_the_in_cluster_load_generator_orders_through_the_ingress(system: System) -> None:
    """skaffold's `load` profile: the locust pod, with its key from the Secret, reaches the app by the
    ingress controller's in-cluster name and places orders that the kitchen reserves."""
    ui = system.pods["loadgenerator"][0].url(8089)
    # Its swarm started with the rest of the release: count from the moment everything is ready.
    assert httpx.post(f"{ui}/stats/reset", timeout=10).status_code == 200

    def rows() -> dict[tuple[str, str], dict[str, Any]]:
        stats = httpx.get(f"{ui}/stats/requests", timeout=10).json()
        return {(row["method"], row["name"]): row for row in stats["stats"]}

    def reserved_orders() -> int:
        outcomes = {name: row["num_requests"] for (method, name), row in rows().items() if method == "ORDER"}
        return sum(count for name, count in outcomes.items() if "reserved" in name)

    try:
        wait_until(lambda: reserved_orders() >= 5, 120, "five orders reserved by the load generator", 0.5)
    except AssertionError as exc:
        summary = {key: (row["num_requests"], row["num_failures"]) for key, row in rows().items()}
        raise AssertionError(f"{exc}\n{summary}\n{system.runner.logs(system.pods['loadgenerator'][0])}") from None
    final = rows()
    assert final[("POST", "/api/kitchen/orders")]["num_requests"] >= 5
    failed = {key: row["num_failures"] for key, row in final.items() if row["num_failures"]}
    assert not failed, failed
