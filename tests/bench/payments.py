"""`python -m tests.bench.payments`: measure `POST /api/payments` and write the `payments` section of
docs/benchmarks.md (the rest of the page stays as `make bench` and `make load` wrote it).

The real market, warehouse, kitchen and payments processes (tests/e2e/harness.py) on a fresh
database (seed 000, the salad's ingredients stocked deep in the pantry) and nats-server. Before each
step, orders are placed through the kitchen (each payment needs a reserved order of its own) and
the payments replica has heard of them; then N clients pay in a closed loop, each for the next
order, with `tok_visa` and an `Idempotency-Key` each. A second pair of steps empties the replica
first, so that every payment asks the kitchen for its order by request-reply.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from tests.bench.cpu import CpuMeter, children, wait_quiet
from tests.bench.doc import measure_and_write
from tests.bench.httpclient import HttpConnection, json_request
from tests.bench.loop import Timing, closed_loop
from tests.bench.machine import Machine
from tests.bench.options import ROOT
from tests.bench.scenarios import DISH, SCENARIOS, SERVICE_ENV, check_invariants, restock
from tests.bench.servers import Infra
from tests.bench.stats import Step
from tests.e2e.harness import Stack, eventually

SECTION = "payments"
CUSTOMERS = 8
ORDER_CLIENTS = 16
PAYMENTS_PATH = "/api/payments"


@dataclass(frozen=True)
class Options:
    warmup_s: float
    measure_s: float
    concurrency: list[int]
    orders_per_client_s: int
    out: Path
    quiet_wait_s: float


def parse(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(prog="python -m tests.bench.payments", description=__doc__)
    p.add_argument("--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP_S", "2")))
    p.add_argument("--measure", type=float, default=float(os.environ.get("BENCH_MEASURE_S", "8")))
    p.add_argument("--concurrency", default=os.environ.get("BENCH_CONCURRENCY", "1,16"))
    # Orders placed before a step, per client and second of the step: more than a client pays for.
    p.add_argument("--orders", type=int, default=int(os.environ.get("BENCH_PAY_ORDERS", "60")))
    p.add_argument("--out", type=Path, default=ROOT / "docs/benchmarks.md")
    p.add_argument("--quiet-wait", type=float, default=20.0)
    a = p.parse_args(argv)
    return Options(a.warmup, a.measure, [int(x) for x in a.concurrency.split(",")], a.orders, a.out, a.quiet_wait)


@dataclass
class Results:
    machine: Machine | None = None
    steps: list[tuple[Step, str]] = field(default_factory=list)  # the step, its pay → served median
    check: str = ""


def _post(port: int, path: str, token: str, body: dict[str, object]) -> bytes:
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": f"bench-{uuid.uuid4().hex}",
        "Content-Type": "application/json",
    }
    return json_request("POST", port, path, body, headers)


async def place_orders(stack: Stack, tokens: list[str], count: int) -> deque[tuple[str, str]]:
    """`count` reserved orders through the kitchen; (order id, its customer's token) each."""
    port = stack.services["kitchen"].port
    placed: deque[tuple[str, str]] = deque()

    async def client(i: int) -> None:
        conn = HttpConnection("127.0.0.1", port)
        try:
            for n in range(i, count, ORDER_CLIENTS):
                token = tokens[n % len(tokens)]
                status, body = await conn.request(
                    _post(port, "/api/kitchen/orders", token, {"dish_id": DISH, "quantity": 1})
                )
                assert status == 201, body[:300]
                placed.append((json.loads(body)["order_id"], token))
        finally:
            conn.close()

    await asyncio.gather(*(client(i) for i in range(ORDER_CLIENTS)))
    return placed


async def replica_holds(db: asyncpg.Pool, count: int) -> None:
    async def caught_up() -> bool:
        n = await db.fetchval("SELECT count(*) FROM payments.orders WHERE status = 'reserved'")
        return int(n) >= count

    await eventually(caught_up, 120, f"the payments replica holding {count} reserved orders")


class PayLoad:
    """The `Operation` for `closed_loop`: worker i pays for the next order on its own connection."""

    def __init__(self, port: int, orders: deque[tuple[str, str]], concurrency: int) -> None:
        self.port = port
        self.orders = orders
        self.connections = [HttpConnection("127.0.0.1", port) for _ in range(concurrency)]

    async def __call__(self, i: int) -> tuple[bool, str]:
        order_id, token = self.orders.popleft()
        status, _ = await self.connections[i].request(
            _post(self.port, PAYMENTS_PATH, token, {"order_id": order_id, "token": "tok_visa"})
        )
        return status == 201, str(status)

    def close(self) -> None:
        for c in self.connections:
            c.close()


async def served_median_ms(db: asyncpg.Pool, since: float) -> str:
    """Median time from a payment's start to its order served (the kitchen consumed the dish), for
    the payments made since `since` (epoch seconds), once every one of them is served."""

    async def all_served() -> bool:
        left = await db.fetchval(
            "SELECT count(*) FROM payments.payments p JOIN kitchen.orders o ON o.id = p.order_id "
            "WHERE p.created_at >= to_timestamp($1) AND p.status = 'succeeded' AND o.status <> 'served'",
            since,
        )
        return int(left) == 0

    await eventually(all_served, 120, "every paid order served")
    ms = await db.fetchval(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.updated_at - p.created_at)) * 1000 "
        "FROM payments.payments p JOIN kitchen.orders o ON o.id = p.order_id "
        "WHERE p.created_at >= to_timestamp($1) AND p.status = 'succeeded'",
        since,
    )
    return f"{float(ms):.1f}" if ms is not None else "–"


async def run(opts: Options, res: Results) -> None:
    infra = Infra(fast=True)
    try:
        infra.start_postgres()
        pg_version, nats_version = await infra.versions()
        res.machine = Machine.probe(pg_version, nats_version)
        nats_server = infra.start_nats()
        url = await infra.fresh_database("payments")
        env = {**SERVICE_ENV, "PAYMENTS_LOG_FORMAT": "json", "PAYMENTS_LOG_LEVEL": "INFO"}
        stack = Stack(url, nats_server.url, infra.root, env)
        await stack.prepare()
        await restock(url, SCENARIOS["pantry"])
        db = await asyncpg.create_pool(url, min_size=1, max_size=2)
        assert db is not None
        try:
            await stack.start("market", "warehouse", "kitchen", "payments")
            pids = {n: s.proc.pid for n, s in stack.services.items() if s.proc is not None}
            assert infra.pg is not None and infra.pg.proc is not None
            pg_pid = infra.pg.proc.pid
            groups = {name: (lambda pid=pid: [pid]) for name, pid in pids.items()}
            meter = CpuMeter({"bench": lambda: [os.getpid()], **groups, "postgres": lambda: children(pg_pid)})
            tokens = [stack.token(f"bench-customer-{i}") for i in range(CUSTOMERS)]
            for replica in (True, False):
                for c in opts.concurrency:
                    res.steps.append(await step(stack, db, tokens, c, replica, opts, meter))
            res.check = await check_invariants(url)
        finally:
            await db.close()
            stack.stop()
    finally:
        infra.close()


async def step(
    stack: Stack, db: asyncpg.Pool, tokens: list[str], c: int, replica: bool, opts: Options, meter: CpuMeter
) -> tuple[Step, str]:
    count = int(opts.orders_per_client_s * c * (opts.warmup_s + opts.measure_s)) + 100
    orders = await place_orders(stack, tokens, count)
    await replica_holds(db, len(orders))
    if not replica:
        await db.execute("DELETE FROM payments.orders")  # every payment now asks the kitchen
    label = "replica knows the order" if replica else "replica empty: asks the kitchen"
    await wait_quiet(opts.quiet_wait_s)
    since = time.time()
    load = PayLoad(stack.services["payments"].port, orders, c)
    meter.start()
    try:
        result = await closed_loop(label, load, c, Timing(opts.warmup_s, opts.measure_s, max_ops=len(orders)))
    finally:
        load.close()
    result.cpu = meter.stop()
    served = await served_median_ms(db, since)
    print(result.summary() + f"  pay→served p50 {served} ms", flush=True)
    return result, served


def render(res: Results, command: str) -> str:
    assert res.machine is not None
    lines = [
        "## Payments: `POST /api/payments`",
        "",
        *res.machine.generated(command),
        "- Closed loop: N clients each pay for a reserved order of their own (`tok_visa`, a fresh",
        "  `Idempotency-Key` each) and pay for the next as soon as the answer comes. Orders are placed",
        "  through the kitchen before the step (not measured); the replica steps wait until the payments",
        "  replica holds them all, the other steps then empty it, so each payment asks the kitchen",
        "  (`rpc.kitchen.order.get`). payments/s counts the 201s inside the measured window; latencies",
        "  are theirs (nearest-rank). *pay→served* is the median from a payment's start to its order",
        "  served (relay, JetStream, the kitchen's payment consumer consuming the holds).",
        "- The services run with JSON logs at INFO, the sandbox provider answering at once: the figures",
        "  are Brigade's cost of a charge (two transactions, the outbox, the key), not a card network's.",
        "  PostgreSQL with devservers' FAST_SETTINGS; the client and every process share the same cores.",
        "",
        "| step | clients | payments/s | p50 ms | p95 ms | p99 ms | errors | pay→served p50 ms | CPU (cores) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s, served in res.steps:
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in s.cpu.items() if v >= 0.01)
        lines.append(
            f"| {s.label} | {s.concurrency} | {s.rate:,.1f} | {s.p50:.1f} | {s.p95:.1f} | {s.p99:.1f} "
            f"| {s.errors} | {served} | {cpu} |"
        )
    lines += ["", f"After the run: {res.check}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    opts = parse(args)
    res = Results()
    return measure_and_write(
        "tests.bench.payments", SECTION, args, opts.out, lambda: run(opts, res), lambda command: render(res, command)
    )


if __name__ == "__main__":
    sys.exit(main())
