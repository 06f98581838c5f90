"""Each JetStream hop of the saga, timed per message, against the floor.

After a scenario, every message of the KITCHEN and WAREHOUSE streams is read back (an ephemeral
consumer, nothing acknowledged) with the time the server stored it, and joined by its id with the
inbox rows of the consumers that handled it (`processed_at`: the start of the handler's transaction).
A hop then splits in two:

- **relay**: the envelope's `occurred_at` (stamped in the sending transaction, just before its commit)
  → stored in the stream: the commit, the outbox relay waking up and publishing, the broker's write;
- **delivery**: stored → the handler's transaction begins: the pull consumer's fetch, the runner's
  dispatch and `BEGIN` (for a supply command, the warehouse's transaction that opens the request,
  since the inbox row of long-running work is written by its last one).

Messages are grouped into the bench's steps by the time they were stored (each step's window).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
import nats
import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from tests.bench.stats import percentile

STREAMS = ("KITCHEN", "WAREHOUSE")
SUPPLY_CMD = "warehouse.cmd.supply.v1"
SCHEMAS = ("kitchen", "warehouse")
PAGE = 1_000


@dataclass(frozen=True)
class Window:
    """One bench step: its client count and wall-clock window (epoch seconds)."""

    clients: int
    start: float
    end: float


@dataclass
class Hop:
    clients: int
    subject: str
    consumer: str
    relay_s: list[float] = field(default_factory=list)
    delivery_s: list[float] = field(default_factory=list)

    def ms(self, values: list[float], q: float) -> float:
        return percentile(sorted(values), q) * 1000

    @property
    def whole_s(self) -> list[float]:
        """Each message's whole hop: relay and delivery."""
        return [r + d for r, d in zip(self.relay_s, self.delivery_s, strict=True)]


@dataclass(frozen=True)
class Stored:
    subject: str
    occurred: float
    stored: float
    request_id: str | None  # a supply command's request


async def _messages(nats_url: str) -> dict[str, Stored]:
    """Every message of the streams by envelope id, with its `occurred_at` and stored time."""
    nc = await nats.connect(nats_url)
    out: dict[str, Stored] = {}
    try:
        js = nc.jetstream()
        for stream in STREAMS:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, inactive_threshold=30.0
            )
            sub = await js.pull_subscribe(">", stream=stream, config=config)
            try:
                while True:
                    try:
                        msgs = await sub.fetch(PAGE, timeout=1.0)
                    except (TimeoutError, nats.errors.TimeoutError):
                        break
                    for m in msgs:
                        body = json.loads(m.data)
                        occurred = datetime.fromisoformat(body["occurred_at"]).timestamp()
                        request = body.get("data", {}).get("request_id") if m.subject == SUPPLY_CMD else None
                        out[body["id"]] = Stored(m.subject, occurred, m.metadata.timestamp.timestamp(), request)
                    if msgs[-1].metadata.num_pending == 0:
                        break
            finally:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
    finally:
        await nc.close()
    return out


async def _handled(database_url: str) -> tuple[list[asyncpg.Record], dict[str, float]]:
    """The inbox rows of both services, and when the warehouse opened each supply request (also the
    start of its time in the warehouse: `in_warehouse`)."""
    conn = await asyncpg.connect(database_url)
    try:
        sql = " UNION ALL ".join(
            f"SELECT consumer, message_id, extract(epoch FROM processed_at)::float8 AS at FROM {s}.inbox"
            for s in SCHEMAS
        )
        opened = await conn.fetch(
            "SELECT id, extract(epoch FROM created_at)::float8 AS at FROM warehouse.supply_requests"
        )
        return await conn.fetch(sql), {r["id"]: r["at"] for r in opened}
    finally:
        await conn.close()


async def hop_timeline(database_url: str, nats_url: str, windows: list[Window]) -> list[Hop]:
    """Per step and per (subject, consumer): the relay and delivery times of every message."""
    messages, (handled, opened) = await asyncio.gather(_messages(nats_url), _handled(database_url))
    hops: dict[tuple[int, str, str], Hop] = {}
    by_step: dict[int, list[Hop]] = defaultdict(list)
    for row in handled:
        m = messages.get(row["message_id"])
        if m is None:
            continue
        at = row["at"]
        if m.request_id is not None:
            # Long-running work records its message in its last transaction: the hop ends at the first.
            at = opened.get(m.request_id, at)
        window = next((w for w in windows if w.start <= m.stored <= w.end), None)
        if window is None:
            continue
        key = (window.clients, m.subject, row["consumer"])
        hop = hops.get(key)
        if hop is None:
            hop = hops[key] = Hop(*key)
            by_step[window.clients].append(hop)
        hop.relay_s.append(m.stored - m.occurred)
        hop.delivery_s.append(at - m.stored)
    return [hop for w in windows for hop in sorted(by_step[w.clients], key=lambda h: (h.subject, h.consumer))]


async def in_warehouse(database_url: str, windows: list[Window]) -> dict[int, list[float]]:
    """Per step: each delivered request's time in the warehouse, from its opening transaction to its
    delivering one (stock lock, market purchases if any, the debit)."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM created_at)::float8 AS opened, "
            "extract(epoch FROM resolved_at - created_at)::float8 AS took "
            "FROM warehouse.supply_requests WHERE status = 'delivered'"
        )
    finally:
        await conn.close()
    out: dict[int, list[float]] = {w.clients: [] for w in windows}
    for r in rows:
        window = next((w for w in windows if w.start <= r["opened"] <= w.end), None)
        if window is not None:
            out[window.clients].append(r["took"])
    return out


def worst_p99_ms(hops: list[Hop], clients: int) -> float:
    """The slowest hop's p99 (relay and delivery together) at `clients`, or NaN."""
    whole = [
        h.ms([r + d for r, d in zip(h.relay_s, h.delivery_s, strict=True)], 99) for h in hops if h.clients == clients
    ]
    return max(whole, default=float("nan"))


def table(hops: list[Hop], floor_p99_ms: dict[int, float]) -> list[str]:
    """The hops as a Markdown table, each hop's whole p99 against the JetStream floor's p99."""
    lines = [
        "| clients | message → consumer | messages | relay p50 / p99 ms | delivery p50 / p99 ms "
        "| hop p50 / p99 ms | hop p99 ÷ floor p99 |",
        "|---:|---|---:|---|---|---|---:|",
    ]
    for h in hops:
        whole = h.whole_s
        floor = floor_p99_ms.get(h.clients)
        ratio = f"{h.ms(whole, 99) / floor:.1f}×" if floor else "–"
        lines.append(
            f"| {h.clients} | `{h.subject}` → `{h.consumer}` | {len(h.relay_s):,} "
            f"| {h.ms(h.relay_s, 50):.1f} / {h.ms(h.relay_s, 99):.1f} "
            f"| {h.ms(h.delivery_s, 50):.1f} / {h.ms(h.delivery_s, 99):.1f} "
            f"| {h.ms(whole, 50):.1f} / {h.ms(whole, 99):.1f} | {ratio} |"
        )
    return lines
