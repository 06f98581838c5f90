"""`python -m tests.bench.live`: the live service's WebSocket feed against a real nats-server.

From the kitchen's pantry commit to a client's receive of the movement under a steady order load
(a kitchen, a warehouse, a market and a live process: tests/bench/live_orders.py), delivery latency
of the feed alone (an event's JetStream publish → a client's receive of its frame), both at 1, 100 and
1000 clients, the live process's memory per connection, and how fast a client resuming 50 000 events
behind catches up. Prints the figures and writes the `live` section of docs/benchmarks.md (which
`make bench` keeps). It measures; it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nats
from websockets.asyncio.client import ClientConnection, connect

from brigade_common.devservers import nats_server_binary, nats_server_version
from brigade_common.envelope import Envelope
from brigade_contracts.kitchen import PANTRY_MOVED
from tests.bench import live_orders
from tests.bench.cpu import CpuMeter, wait_quiet
from tests.bench.doc import with_section
from tests.bench.live_orders import OrderFeedRow
from tests.bench.live_report import section_body, terminal_row
from tests.bench.loop import cancel_on_signals
from tests.bench.machine import Machine
from tests.bench.options import ROOT
from tests.bench.servers import Infra
from tests.bench.stats import percentile
from tests.e2e.harness import Stack
from tests.load.stack import rss_kib

SECTION = "live"
FEED = "/api/live/ws"
CONNECT_BATCH = 50
WAIT_S = 60.0
# As in the Helm chart: JSON logs at INFO.
LIVE_ENV = {"LIVE_LOG_FORMAT": "json", "LIVE_LOG_LEVEL": "INFO"}


@dataclass(frozen=True)
class Options:
    clients: list[int]
    events: int
    replay: int
    uncompressed: bool
    out: Path | None
    order_clients: list[int] = field(default_factory=list)
    order_rate: float = 5.0
    order_seconds: float = 20.0


def parse(argv: Sequence[str]) -> Options:
    p = argparse.ArgumentParser(prog="python -m tests.bench.live", description=__doc__)
    p.add_argument("--clients", default="1,100,1000", help="client counts, one step each (default 1,100,1000)")
    p.add_argument("--events", type=int, default=100, help="events published per step (default 100)")
    p.add_argument("--replay", type=int, default=50_000, help="events behind for the catch-up (default 50000)")
    p.add_argument(
        "--no-uncompressed",
        dest="uncompressed",
        action="store_false",
        help="skip the largest step repeated without permessage-deflate",
    )
    p.add_argument(
        "--order-clients",
        default="1,100,1000",
        help="client counts for commit → receive under an order load, one step each ('': skip; default 1,100,1000)",
    )
    p.add_argument("--order-rate", type=float, default=5.0, help="orders per second in those steps (default 5)")
    p.add_argument("--order-seconds", type=float, default=20.0, help="how long each step orders (default 20)")
    p.add_argument("--out", default=str(ROOT / "docs/benchmarks.md"), help="the page to write ('-': none)")
    a = p.parse_args(argv)
    clients = [int(x) for x in a.clients.split(",") if x.strip()]
    order_clients = [int(x) for x in a.order_clients.split(",") if x.strip()]
    out = None if a.out == "-" else Path(a.out)
    return Options(clients, a.events, a.replay, a.uncompressed, out, order_clients, a.order_rate, a.order_seconds)


@dataclass
class Row:
    clients: int
    compressed: bool  # offered by the clients, as a browser offers it
    events: int
    negotiated: bool = False  # accepted by the server (the services serve without it)
    latencies_s: list[float] = field(default_factory=list)
    # Per event: when its last client received it.
    fanout_s: list[float] = field(default_factory=list)
    missing: int = 0
    rss_idle_kib: int = 0
    rss_loaded_kib: int = 0
    cpu: dict[str, float] = field(default_factory=dict)

    def ms(self, values: list[float], q: float) -> float:
        return percentile(sorted(values), q) * 1000

    @property
    def per_connection_kib(self) -> float:
        return (self.rss_loaded_kib - self.rss_idle_kib) / self.clients


@dataclass
class CatchUp:
    behind: int
    received: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        return self.received / self.elapsed_s


class Deliveries:
    """What the clients received: a latency per (client, event), and each event's fan-out done."""

    def __init__(self, clients: int) -> None:
        self.clients = clients
        self.latencies_s: list[float] = []
        self.counts: dict[int, int] = {}
        self.done: dict[int, asyncio.Event] = {}
        self.last_ns: dict[int, int] = {}

    def expect(self, movement: int) -> asyncio.Event:
        self.done[movement] = asyncio.Event()
        self.counts[movement] = 0
        return self.done[movement]

    def received(self, movement: int, sent_ns: int, now_ns: int) -> None:
        self.latencies_s.append((now_ns - sent_ns) / 1e9)
        self.counts[movement] = self.counts.get(movement, 0) + 1
        if self.counts[movement] == self.clients and movement in self.done:
            self.last_ns[movement] = now_ns
            self.done[movement].set()


async def _signed_in(url: str, token: str, compressed: bool) -> ClientConnection:
    ws = await connect(url, open_timeout=30, max_size=None, compression="deflate" if compressed else None)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    while json.loads(await ws.recv())["type"] != "ready":
        pass
    return ws


async def _subscribed(ws: ClientConnection) -> dict[str, object]:
    """Subscribed to the pantry's new events: its `live` frame."""
    await ws.send(json.dumps({"type": "subscribe", "channel": "pantry"}))
    while True:
        got: dict[str, object] = json.loads(await ws.recv())
        if got["type"] == "live":
            return got


async def _read(ws: ClientConnection, deliveries: Deliveries) -> None:
    async for text in ws:
        now = time.perf_counter_ns()
        frame = json.loads(text)
        if frame["type"] == "event":
            data = frame["event"]["data"]
            deliveries.received(data["movement_id"], data["sent_ns"], now)


def _envelope(movement: int) -> bytes:
    data = {
        "movement_id": movement,
        "ingredient": "lechuga",
        "delta": -5,
        "reason": "consume",
        "on_hand": 120,
        "reserved": 15,
        "order_id": "0b6f3c1e-6a43-4d5e-9a55-0f1d7c1f2b9a",
        "sent_ns": time.perf_counter_ns(),
    }
    return Envelope.wrap(PANTRY_MOVED, data).to_bytes()


@dataclass
class Bench:
    """The run's nats-server and the stack that starts the live process."""

    stack: Stack
    nats_pid: int

    @property
    def live_pid(self) -> int:
        proc = self.stack.services["live"].proc
        assert proc is not None
        return proc.pid

    async def fresh_live(self) -> str:
        """A live process of its own for the step (memory measured from its idle start); its feed URL."""
        if "live" in self.stack.services:
            self.stack.services["live"].stop()
        await self.stack.start("live")
        return self.stack.url("live").replace("http://", "ws://") + FEED

    def meter(self) -> CpuMeter:
        live, nats_pid = self.live_pid, self.nats_pid
        return CpuMeter({"live": lambda: [live], "nats-server": lambda: [nats_pid], "bench": lambda: [os.getpid()]})

    def token(self, sub: str) -> str:
        return self.stack.token(sub, ("staff",))


async def fan_out(bench: Bench, url: str, clients: int, events: int, compressed: bool) -> Row:
    """`clients` subscribed to the pantry; `events` published one at a time, each once every client has
    the one before (the latency of an event, not of a queue of them)."""
    row = Row(clients, compressed, events, rss_idle_kib=rss_kib(bench.live_pid))
    sockets: list[ClientConnection] = []
    deliveries = Deliveries(clients)
    readers: list[asyncio.Task[None]] = []
    nc = await nats.connect(bench.stack.nats_url)
    js = nc.jetstream()
    try:
        for start in range(0, clients, CONNECT_BATCH):
            tokens = [bench.token(f"staff-{i}") for i in range(start, min(clients, start + CONNECT_BATCH))]
            sockets += await asyncio.gather(*(_signed_in(url, t, compressed) for t in tokens))
        await asyncio.gather(*(_subscribed(ws) for ws in sockets))
        row.negotiated = any(ws.response.headers.get("Sec-WebSocket-Extensions") for ws in sockets)
        readers = [asyncio.create_task(_read(ws, deliveries)) for ws in sockets]
        await wait_quiet(20)
        meter = bench.meter()
        meter.start()
        for movement in range(events):
            done = deliveries.expect(movement)
            body = _envelope(movement)
            sent_ns = json.loads(body)["data"]["sent_ns"]
            await js.publish(PANTRY_MOVED, body)
            try:
                await asyncio.wait_for(done.wait(), WAIT_S)
                row.fanout_s.append((deliveries.last_ns[movement] - sent_ns) / 1e9)
            except TimeoutError:
                row.missing += clients - deliveries.counts[movement]
        row.cpu = meter.stop()
        row.latencies_s = deliveries.latencies_s
        row.rss_loaded_kib = rss_kib(bench.live_pid)
    finally:
        await live_orders.hang_up(readers, sockets)
        await nc.drain()
    return row


async def catch_up(bench: Bench, url: str, behind: int) -> CatchUp:
    """A client that applied everything up to a point, back `behind` events later."""
    nc = await nats.connect(bench.stack.nats_url)
    js = nc.jetstream()
    try:
        ws = await _signed_in(url, bench.token("staff-resuming"), True)
        after = (await _subscribed(ws))["seq"]
        await ws.close()
        for start in range(0, behind, 1_000):
            batch = range(start, min(behind, start + 1_000))
            await asyncio.gather(*(js.publish(PANTRY_MOVED, _envelope(i)) for i in batch))
    finally:
        await nc.drain()
    ws = await _signed_in(url, bench.token("staff-resuming"), True)
    try:
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "subscribe", "channel": "pantry", "after": after}))
        received = 0
        while (kind := json.loads(await ws.recv())["type"]) != "live":
            received += kind == "event"
        return CatchUp(behind, received, time.perf_counter() - started)
    finally:
        await ws.close()


@dataclass
class Results:
    machine: Machine
    rows: list[Row] = field(default_factory=list)
    caught: CatchUp | None = None
    failed: str = ""
    orders: list[OrderFeedRow] = field(default_factory=list)


async def run_orders(infra: Infra, opts: Options) -> list[OrderFeedRow]:
    """Commit → receive under a steady order load, at each of `opts.order_clients`."""
    feed = await live_orders.start(infra)
    rows: list[OrderFeedRow] = []
    try:
        for clients in opts.order_clients:
            print(f"== {clients} clients under {opts.order_rate:g} orders/s for {opts.order_seconds:g} s", flush=True)
            rows.append(await live_orders.step(feed, clients, opts.order_rate, opts.order_seconds))
            print(live_orders.terminal_row(rows[-1]), flush=True)
    finally:
        feed.stack.stop()
    return rows


async def run(opts: Options) -> Results:
    infra = Infra(fast=True)
    try:
        pg = "–"
        if opts.order_clients:
            infra.start_postgres()
            pg = (await infra.versions())[0]
        server = infra.start_nats()
        assert server.proc is not None
        res = Results(Machine.probe(pg, ".".join(map(str, nats_server_version(nats_server_binary())))))
        stack = Stack("", server.url, infra.root, dict(LIVE_ENV))
        bench = Bench(stack, server.proc.pid)
        steps = [(n, True) for n in opts.clients]
        if opts.uncompressed and opts.clients:
            steps.append((max(opts.clients), False))
        try:
            for clients, compressed in steps:
                url = await bench.fresh_live()
                print(f"== {clients} clients, compression {'on' if compressed else 'off'}", flush=True)
                try:
                    res.rows.append(await fan_out(bench, url, clients, opts.events, compressed))
                except OSError as exc:
                    res.failed = f"{clients} clients failed to connect: {exc}"
                    print(res.failed, flush=True)
                    break
                print(terminal_row(res.rows[-1]), flush=True)
            if opts.replay:
                url = await bench.fresh_live()
                print(f"== catch-up, {opts.replay} events behind", flush=True)
                res.caught = caught = await catch_up(bench, url, opts.replay)
                print(f"caught up {caught.received} events in {caught.elapsed_s:.2f} s: {caught.rate:,.0f}/s")
        finally:
            stack.stop()
        infra.stop_nats(server)
        if opts.order_clients:
            res.orders = await run_orders(infra, opts)
    finally:
        infra.close()
    return res


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    opts = parse(args)
    command = "uv run --frozen python -m tests.bench.live" + "".join(f" {a}" for a in args)

    async def _main() -> Results:
        cancel_on_signals()
        return await run(opts)

    try:
        import uvloop  # as `make bench`: the clients' own overhead is part of what is measured

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            res = runner.run(_main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: everything stopped, nothing written", file=sys.stderr)
        return 130
    body = section_body(res, command, opts)
    print("\n" + body)
    if opts.out is not None:
        old = opts.out.read_text() if opts.out.exists() else "# Benchmarks\n"
        opts.out.write_text(with_section(old, SECTION, body))
        print(f"\nwrote the `{SECTION}` section of {opts.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
