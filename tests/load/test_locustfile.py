"""The locustfile, run by locust itself against real services behind the gateway: what `make load` and
the cluster's load generator do, in a few journeys instead of a minute of load."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from tests.e2e.harness import Stack, eventually
from tests.e2e.reconcile import reconcile
from tests.load.runner import LocustRun, run_locust
from tests.load.stack import load_env, start_with_gateway

JOURNEYS = 8


async def test_customers_order_through_the_gateway_and_find_their_orders(
    stack: Stack, db: asyncpg.Pool, tmp_path: Path
) -> None:
    host = await start_with_gateway(stack)
    # The run ends after JOURNEYS order journeys; the run time only bounds a run that went wrong.
    run = LocustRun(
        host,
        users=4,
        spawn_rate=100,
        duration_s=90,
        env={**load_env(stack), "LOAD_JOURNEYS": str(JOURNEYS), "LOAD_THINK_S": "0,0.05", "LOAD_CANCEL_SHARE": "0.5"},
    )
    summary = await asyncio.to_thread(run_locust, run, tmp_path)

    assert summary.exit_code == 0, summary.log[-3000:]
    assert summary.errors == [] and summary.failures == 0, summary.errors
    assert summary.journeys == JOURNEYS
    placed = summary.request("POST", "/api/kitchen/orders")
    assert placed is not None and placed.requests == JOURNEYS
    # Each journey followed its order until the kitchen held the dish, and found it among its orders.
    assert summary.outcomes == {"reserved": JOURNEYS}
    listed = summary.request("GET", "/api/kitchen/orders?limit")
    assert listed is not None and listed.requests == JOURNEYS
    assert summary.request("GET", "/api/kitchen/dishes/today") is not None

    # The kitchen has exactly those orders, from simulated customers with subjects of their own; each
    # reserved one was cancelled or paid for, and every paid one is served.
    cancels = summary.request("POST", "/api/kitchen/orders/{order_id}/cancel")
    payments = summary.request("POST", "/api/payments")
    cancelled, paid = (cancels.requests if cancels else 0), (payments.requests if payments else 0)
    assert cancelled + paid == JOURNEYS

    async def all_served() -> list[asyncpg.Record] | None:
        rows = await db.fetch("SELECT customer_id, status FROM kitchen.orders")
        return rows if sum(r["status"] == "served" for r in rows) == paid else None

    rows = await eventually(all_served, 30, "every paid order served")
    assert len(rows) == JOURNEYS
    assert sorted(r["status"] for r in rows) == ["cancelled"] * cancelled + ["served"] * paid
    assert await db.fetchval("SELECT count(*) FROM payments.payments WHERE status = 'succeeded'") == paid
    # Each simulated customer signed up and in through the auth service: its orders are its user's.
    customers = {r["customer_id"] for r in rows}
    signed_up = await db.fetch("SELECT id::text AS id FROM auth.users WHERE email LIKE 'load-customer-%'")
    assert customers <= {r["id"] for r in signed_up}
    assert len(customers) > 1
    for route in ("/api/auth/signup", "/api/auth/signin"):
        entry = summary.request("POST", route)
        assert entry is not None and entry.requests >= len(customers) and entry.failures == 0
    await reconcile(db)

    # What the service refuses is a locust failure, and the run says so: a token it does not trust.
    env = {"LOAD_TOKEN": "not-a-token", "LOAD_JOURNEYS": "2", "LOAD_THINK_S": "0"}
    run = LocustRun(host, users=2, spawn_rate=100, duration_s=90, env=env, user_classes=("Customer",))
    refused = await asyncio.to_thread(run_locust, run, tmp_path / "refused")
    assert refused.exit_code != 0
    (error,) = refused.errors
    assert (error["type"], error["name"], error["occurrences"]) == ("POST", "/api/kitchen/orders", 2)
    assert error["error"] == "401 Invalid Token: malformed token"
    assert await db.fetchval("SELECT count(*) FROM kitchen.orders") == JOURNEYS
