"""The live feed end to end under an order load (part of `python -m tests.bench.live`).

A kitchen, a warehouse, a market and a live process on their own PostgreSQL and nats-server, as
tests/bench/scenarios.py starts them for (b): the pantry at zero for the dish, the warehouse stocked,
so each order is a supply round trip whose deliveries are rows of the kitchen's pantry ledger. N staff
clients subscribe to the pantry; orders are placed through the kitchen's HTTP API at a fixed rate;
each (client, ledger row) pair is timed from the row's commit to the client's receive of its frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from websockets.asyncio.client import ClientConnection, connect

from brigade_contracts.kitchen import PANTRY_MOVED
from tests.bench.cpu import CpuMeter, children, wait_quiet
from tests.bench.scenarios import CUSTOMERS, DISH, SCENARIOS, make_stack, restock, settle
from tests.bench.servers import Infra
from tests.bench.stats import percentile
from tests.e2e.harness import Stack

FEED = "/api/live/ws"
CONNECT_BATCH = 50
DELIVERY_WAIT_S = 60.0
# The feed as the Helm chart runs it: JSON logs at INFO (the other services' are in SERVICE_ENV).
LIVE_ENV = {"LIVE_LOG_FORMAT": "json", "LIVE_LOG_LEVEL": "INFO"}


@dataclass
class OrderFeedRow:
    clients: int
    rate: float  # orders per second asked for
    seconds: float
    placed: int = 0  # orders answered 201/202
    refused: int = 0  # orders answered otherwise, or not at all
    statuses: dict[str, int] = field(default_factory=dict)
    movements: int = 0  # pantry ledger rows the step's orders committed
    latencies_s: list[float] = field(default_factory=list)
    missing: int = 0  # (client, row) pairs never received
    stamps: Counter[str] = field(default_factory=Counter)  # which commit time each row carried
    cpu: dict[str, float] = field(default_factory=dict)

    def ms(self, q: float) -> float:
        return percentile(sorted(self.latencies_s), q) * 1000

    @property
    def stamp(self) -> str:
        """Which time the latencies start from: the ledger row's `created_at`, else `occurred_at`."""
        return " + ".join(f"`{k}`" for k, _ in self.stamps.most_common()) or "–"


class Sink:
    """What the clients received: per ledger row, how many clients had it, and each one's latency."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.latencies_ns: dict[int, list[int]] = {}
        self.commits: dict[int, tuple[int, str]] = {}
        self.clients = 0
        self.waiting: set[int] = set()
        self.all_in = asyncio.Event()

    def expect(self, rows: list[int], clients: int) -> asyncio.Event:
        """Set once each of `rows` has reached all `clients` (at once if they all have already)."""
        self.clients = clients
        self.waiting = {r for r in rows if self.counts[r] < clients}
        self.all_in = asyncio.Event()
        if not self.waiting:
            self.all_in.set()
        return self.all_in

    def commit_ns(self, envelope: dict[str, Any]) -> tuple[int, str]:
        data = envelope["data"]
        movement = int(data["movement_id"])
        known = self.commits.get(movement)
        if known is None:
            source = "created_at" if data.get("created_at") else "occurred_at"
            stamp = data["created_at"] if source == "created_at" else envelope["occurred_at"]
            known = (int(datetime.fromisoformat(stamp).timestamp() * 1e9), source)
            self.commits[movement] = known
        return known

    def received(self, envelope: dict[str, Any], now_ns: int) -> None:
        movement = int(envelope["data"]["movement_id"])
        commit, _ = self.commit_ns(envelope)
        self.counts[movement] += 1
        self.latencies_ns.setdefault(movement, []).append(now_ns - commit)
        if movement in self.waiting and self.counts[movement] >= self.clients:
            self.waiting.discard(movement)
            if not self.waiting:
                self.all_in.set()


async def _signed_in(url: str, token: str) -> ClientConnection:
    ws = await connect(url, open_timeout=30, max_size=None, compression=None)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    while json.loads(await ws.recv())["type"] != "ready":
        pass
    await ws.send(json.dumps({"type": "subscribe", "channel": "pantry"}))
    while json.loads(await ws.recv())["type"] != "live":
        pass
    return ws


async def _read(ws: ClientConnection, sink: Sink) -> None:
    async for text in ws:
        now = time.time_ns()  # wall clock, as the commit's stamp (one machine, one clock)
        frame = json.loads(text)
        if frame["type"] == "event" and frame["event"]["type"] == PANTRY_MOVED:
            sink.received(frame["event"], now)


async def _orders(stack: Stack, rate: float, seconds: float) -> tuple[int, int]:
    """Orders placed at `rate` per second for `seconds` (an open loop: each is sent on its schedule,
    whether the ones before are answered or not). Returns (placed, refused)."""
    url = f"{stack.url('kitchen')}/api/kitchen/orders"
    heads = [stack.auth(f"bench-customer-{i}") for i in range(CUSTOMERS)]
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def one(i: int) -> bool:
            try:
                r = await http.post(url, json={"dish_id": DISH, "quantity": 1}, headers=heads[i % CUSTOMERS])
            except httpx.HTTPError:
                return False
            return r.status_code in (201, 202)

        loop = asyncio.get_running_loop()
        start = loop.time()
        sent: list[asyncio.Task[bool]] = []
        for i in range(int(rate * seconds)):
            # The schedule of a fixed rate: the next order's time, not a wait for something to happen.
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            sent.append(asyncio.create_task(one(i)))
        answers = await asyncio.gather(*sent)
    return sum(answers), len(answers) - sum(answers)


async def _ledger_after(database_url: str, after: int) -> list[int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT id FROM kitchen.pantry_movements WHERE id > $1 ORDER BY id", after)
    finally:
        await conn.close()
    return [int(r["id"]) for r in rows]


async def _wait_delivered(sink: Sink, rows: list[int], clients: int) -> None:
    """Until every client has every row, or DELIVERY_WAIT_S (the rest count as missing)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(sink.expect(rows, clients).wait(), DELIVERY_WAIT_S)


def _pids(pid: int) -> Callable[[], list[int]]:
    return lambda: [pid]


@dataclass
class OrderFeed:
    """The run's stack (its own database and nats-server) and what the meter watches."""

    infra: Infra
    stack: Stack
    nats_pid: int

    @property
    def url(self) -> str:
        return self.stack.url("live").replace("http://", "ws://") + FEED

    def meter(self) -> CpuMeter:
        groups = {n: _pids(s.proc.pid) for n, s in self.stack.services.items() if s.proc is not None}
        groups["nats-server"] = _pids(self.nats_pid)
        if self.infra.pg is not None and self.infra.pg.proc is not None:
            pg = self.infra.pg.proc.pid
            groups["postgres"] = lambda: children(pg)
        groups["bench"] = _pids(os.getpid())
        return CpuMeter(groups)


async def start(infra: Infra) -> OrderFeed:
    """Migrated and seeded for (b) the warehouse round trip; market, warehouse, kitchen and live up."""
    if infra.pg is None:
        infra.start_postgres()
    nats_server = infra.start_nats()
    assert nats_server.proc is not None
    url = await infra.fresh_database("live_orders")
    tmp = Path(tempfile.mkdtemp(prefix="live-orders-", dir=infra.root))
    stack = make_stack(url, nats_server.url, tmp, SCENARIOS["warehouse"], LIVE_ENV)
    await stack.prepare()
    await restock(url, SCENARIOS["warehouse"])
    await stack.start("market", "warehouse", "kitchen", "live")
    return OrderFeed(infra, stack, nats_server.proc.pid)


async def step(feed: OrderFeed, clients: int, rate: float, seconds: float) -> OrderFeedRow:
    """`clients` on the pantry while orders come at `rate` for `seconds`; every row's latency to each."""
    row = OrderFeedRow(clients, rate, seconds)
    sink = Sink()
    sockets: list[ClientConnection] = []
    readers: list[asyncio.Task[None]] = []
    try:
        for first in range(0, clients, CONNECT_BATCH):
            batch = range(first, min(clients, first + CONNECT_BATCH))
            sockets += await asyncio.gather(
                *(_signed_in(feed.url, feed.stack.token(f"staff-{i}", ("staff",))) for i in batch)
            )
        readers = [asyncio.create_task(_read(ws, sink)) for ws in sockets]
        # The clients' thousand sockets out of the collector's reach: a full collection in this process
        # would otherwise stall every reader at once and be counted as the feed's latency.
        gc.collect()
        gc.freeze()
        before = max([0, *await _ledger_after(feed.stack.database_url, 0)])
        earlier = await settle(feed.stack.database_url)
        await wait_quiet(20)
        meter = feed.meter()
        meter.start()
        row.placed, row.refused = await _orders(feed.stack, rate, seconds)
        after = await settle(feed.stack.database_url)
        row.statuses = {k: n - earlier.get(k, 0) for k, n in after.items() if n > earlier.get(k, 0)}
        rows = await _ledger_after(feed.stack.database_url, before)
        await _wait_delivered(sink, rows, clients)
        row.cpu = meter.stop()
        row.movements = len(rows)
        for r in rows:
            row.latencies_s += [ns / 1e9 for ns in sink.latencies_ns.get(r, [])]
            row.missing += max(0, clients - sink.counts[r])
            if r in sink.commits:
                row.stamps[sink.commits[r][1]] += 1
    finally:
        await hang_up(readers, sockets)
        gc.unfreeze()
    return row


async def hang_up(readers: list[asyncio.Task[None]], sockets: list[ClientConnection]) -> None:
    """The clients' readers stopped and their sockets closed."""
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def cores(cpu: dict[str, float]) -> str:
    """The CPU figures worth printing on a terminal line."""
    return " ".join(f"{k} {v:.2f}" for k, v in cpu.items() if v >= 0.01)


def terminal_row(r: OrderFeedRow) -> str:
    cpu = cores(r.cpu)
    return (
        f"{r.clients:>5} clients, {r.rate:g} orders/s: {r.placed} placed ({r.refused} refused), "
        f"{r.movements} pantry rows  p50 {r.ms(50):7.2f}  p95 {r.ms(95):7.2f}  p99 {r.ms(99):7.2f} ms "
        f"(from {r.stamp})  missing {r.missing}  cpu: {cpu}"
    )


METHOD = """\
- Commit → WebSocket, under orders: a kitchen, a warehouse, a market and a live process (JSON logs at
  INFO) on a PostgreSQL ({pg}, fsync off as in the order bench) and a nats-server of their own, seeded
  as (b) above: the pantry at zero for `{dish}`, the warehouse stocked, so every order is a supply round
  trip and its two deliveries are two rows of the kitchen's pantry ledger (`kitchen.pantry.moved.v1`
  through the outbox). N staff clients (no permessage-deflate) subscribe to the pantry; then orders are
  sent to the kitchen's HTTP API at a fixed rate ({rate:g}/s for {seconds:g} s, an open loop over 8
  customers), and each (client, ledger row) pair is timed from the row's commit to the client's
  reader having the frame, on the machine's wall clock. The clients' objects are frozen out of the
  bench process's garbage collector once they are connected (`gc.freeze()`), so that a full
  collection of a thousand sockets there is not counted as the feed's latency. The commit's time is
  the row's `created_at` carried in the event when it is there (PostgreSQL's `now()`: the start of the delivering
  transaction, so the transaction itself is counted too), else the envelope's `occurred_at` (stamped
  when the kitchen writes the event to its outbox, in that transaction); the table says which one.
  Everything, the clients included, runs on the same 2 cores."""


def table(rows: list[OrderFeedRow]) -> list[str]:
    lines = [
        "| clients | orders/s × s | orders placed / refused | orders by status | pantry rows | deliveries "
        "| p50 ms | p95 ms | p99 ms | missing | measured from | CPU cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items()))
        cpu = " / ".join(f"{k} {v:.2f}" for k, v in r.cpu.items())
        lines.append(
            f"| {r.clients:,} | {r.rate:g} × {r.seconds:g} | {r.placed} / {r.refused} | {statuses} "
            f"| {r.movements:,} | {len(r.latencies_s):,} | {r.ms(50):.2f} | {r.ms(95):.2f} | {r.ms(99):.2f} "
            f"| {r.missing} | {r.stamp} | {cpu} |"
        )
    return lines
