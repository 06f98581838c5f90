"""The three order scenarios against the real services (tests/e2e/harness.py starts them).

Each scenario gets a fresh database and a fresh nats-server, migrated and seeded with seed 000, then
re-seeded for its case (ledger rows rewritten with the balances, so the invariants still hold):

- pantry:    the dish's ingredients stocked at 10^12 in the pantry: 201 reserved, no warehouse trip;
- warehouse: the pantry at zero for them, the warehouse at 10^12: one supply round trip per ingredient;
- market:    pantry and warehouse at zero, the market sells up to MARKET_MAX_UNITS per purchase.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from tests.bench import holds
from tests.bench.cpu import CpuMeter
from tests.bench.hops import Window
from tests.bench.httpclient import HttpLoad, OrderRequests
from tests.bench.loop import Timing
from tests.bench.measure import measured_step
from tests.bench.stats import Step
from tests.e2e.harness import Stack
from tests.e2e.reconcile import reconcile

DISH = "ensalada-cesar"
RECIPE = {"lechuga": 5, "pollo": 2}
HUGE = 10**12
CUSTOMERS = 8

SERVICE_ENV = {
    f"{svc}_{key}": value
    for svc in ("KITCHEN", "WAREHOUSE", "MARKET")
    for key, value in (("LOG_FORMAT", "json"), ("LOG_LEVEL", "INFO"))
}


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    pantry: int
    warehouse: int
    overrides: Mapping[str, str] = field(default_factory=dict)


SCENARIOS = {
    s.key: s
    for s in (
        Scenario("pantry", "(a) everything in the pantry", HUGE, 0),
        Scenario("warehouse", "(b) warehouse round trip", 0, HUGE),
        Scenario(
            "market",
            "(c) market purchases",
            0,
            0,
            {"MARKET_SEED": "7", "MARKET_MAX_UNITS": "1000", "WAREHOUSE_MARKET_RETRY_S": "0.05"},
        ),
    )
}


async def _reseed(conn: asyncpg.Connection, table: str, ledger: str, amount: int) -> None:
    """Rewrite the seed of RECIPE's ingredients in `table` (balance) and `ledger` to `amount`."""
    names = sorted(RECIPE)
    async with conn.transaction():
        await conn.execute(f"DELETE FROM {ledger} WHERE reason = 'seed' AND ingredient = ANY($1::text[])", names)
        await conn.execute(f"INSERT INTO {table} (ingredient) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", names)
        await conn.execute(f"UPDATE {table} SET on_hand = $2 WHERE ingredient = ANY($1::text[])", names, amount)
        if amount:
            await conn.executemany(
                f"INSERT INTO {ledger} (ingredient, delta, reason) VALUES ($1, $2, 'seed')",
                [(n, amount) for n in names],
            )


async def restock(database_url: str, scenario: Scenario) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SET search_path = kitchen")
        await _reseed(conn, "pantry", "pantry_movements", scenario.pantry)
        await conn.execute("SET search_path = warehouse")
        await _reseed(conn, "stock", "stock_movements", scenario.warehouse)
    finally:
        await conn.close()


async def settle(database_url: str, timeout_s: float = 60.0) -> dict[str, int]:
    """Wait (bounded) until no order is pending; returns the orders by status."""
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "kitchen"})
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            rows = await conn.fetch("SELECT status, count(*) AS n FROM orders GROUP BY status")
            counts = {r["status"]: int(r["n"]) for r in rows}
            if not counts.get("pending") or time.monotonic() > deadline:
                return counts
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def make_stack(database_url: str, nats_url: str, tmp: Path, scenario: Scenario, extra: Mapping[str, str]) -> Stack:
    return Stack(database_url, nats_url, tmp, {**SERVICE_ENV, **scenario.overrides, **extra})


def order_load(stack: Stack, concurrency: int) -> HttpLoad:
    port = stack.port("kitchen")  # shared by its replicas, if it has several
    tokens = [stack.token(f"bench-customer-{i}") for i in range(CUSTOMERS)]
    return HttpLoad(OrderRequests("127.0.0.1", port, tokens, DISH), concurrency)


async def run_orders(
    stack: Stack,
    label: str,
    concurrencies: list[int],
    timing: Timing,
    meter: CpuMeter,
    *,
    quiet_wait_s: float,
    retries: int,
    windows: list[Window] | None = None,
    held: dict[int, holds.Holds] | None = None,
) -> list[Step]:
    """The load steps against a started stack, settling the saga between steps; each step's
    wall-clock window (its warm-up and settling included) is added to `windows`, and how long its
    orders held the dish's pantry rows to `held` (read from every kitchen process's /metrics)."""
    steps = []
    for c in concurrencies:
        start = time.time()
        kitchens = [r.own_port or r.port for r in stack.replicas("kitchen")]
        before = await holds.read(*kitchens) if held is not None else None
        step = await measured_step(
            label,
            lambda c=c: order_load(stack, c),
            c,
            timing,  # type: ignore[misc]
            meter,
            quiet_wait_s=quiet_wait_s,
            retries=retries,
        )
        counts = await settle(stack.database_url)
        if windows is not None:
            windows.append(Window(c, start, time.time()))
        if held is not None and before is not None:
            held[c] = await holds.read(*kitchens) - before
        step.note = f"orders so far: {counts}"
        print(step.summary(), flush=True)
        steps.append(step)
    return steps


async def check_invariants(database_url: str) -> str:
    """DESIGN §3's invariants on both schemas after the run (tests/e2e/reconcile.py), plus the outbox."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert pool is not None
    try:
        try:
            flows = await reconcile(pool)
        except AssertionError as exc:
            return f"VIOLATED: {exc}"
        unsent = await pool.fetchval(
            "SELECT (SELECT count(*) FROM kitchen.outbox) + (SELECT count(*) FROM warehouse.outbox)"
        )
        return f"invariants hold (warehouse→pantry {flows['inflow']} units; {unsent} outbox rows unsent)"
    finally:
        await pool.close()


async def _fetch_one(database_url: str, sql: str) -> asyncpg.Record | None:
    """One row of a report's query, on a connection of its own."""
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchrow(sql)
    finally:
        await conn.close()


PURCHASES_SQL = """
WITH per_request AS (
    SELECT request_id, count(*) AS n, count(*) FILTER (WHERE received < requested) AS short
    FROM warehouse.purchases GROUP BY request_id
)
SELECT count(*) AS requests, sum(n) AS purchases, sum(short) AS short,
       count(*) FILTER (WHERE n > 1 + short) AS again, max(n) AS most
FROM per_request
"""


async def purchases_per_request(database_url: str) -> str:
    """How many market calls a buying request took: one, plus one per short answer of the market, is
    the least; more means it counted on stock that another request then took."""
    r = await _fetch_one(database_url, PURCHASES_SQL)
    if r is None or not r["requests"]:
        return ""
    return (
        f"market purchases: {r['purchases']} for {r['requests']} buying requests "
        f"({r['purchases'] / r['requests']:.2f} each, the most {r['most']}); {r['short']} got less than "
        f"they asked; {r['again']} requests bought more often than the market's short answers made them"
    )


TIMELINE_SQL = """
WITH s AS (
    SELECT o.id, o.created_at AS placed, w.created_at AS opened, w.resolved_at AS delivered,
           k.resolved_at AS received, o.updated_at AS reserved
    FROM kitchen.orders o
    JOIN kitchen.supply_requests k ON k.order_id = o.id
    JOIN warehouse.supply_requests w ON w.id = k.id
    WHERE o.status = 'reserved' AND w.status = 'delivered'
)
SELECT count(DISTINCT id) AS orders,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM opened - placed)) AS to_warehouse,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered - opened)) AS in_warehouse,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received - delivered)) AS to_kitchen,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM reserved - received)) AS last_delivery
FROM s
"""


async def saga_timeline(database_url: str) -> str:
    """Medians of where a supplied order's time went, from the transactions' start times (`now()`)."""
    r = await _fetch_one(database_url, TIMELINE_SQL)
    if r is None or not r["orders"]:
        return ""
    ms = {k: float(r[k] or 0) * 1000 for k in ("to_warehouse", "in_warehouse", "to_kitchen", "last_delivery")}
    return (
        f"saga timeline, medians over {r['orders']} supplied orders (all steps): order transaction start → "
        f"warehouse opens the request {ms['to_warehouse']:.1f} ms (kitchen commit, relay, JetStream, "
        f"pull consumer); → warehouse's delivering transaction {ms['in_warehouse']:.1f} ms (stock lock, "
        f"market purchases); → kitchen's delivery transaction {ms['to_kitchen']:.1f} ms (relay, JetStream, "
        f"pull consumer); a delivery → the order reserved {ms['last_delivery']:.1f} ms (0 for the last one)"
    )
