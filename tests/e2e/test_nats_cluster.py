"""The saga on a three-server NATS cluster whose streams keep three replicas: the server leading the
KITCHEN stream, then the one leading WAREHOUSE, is killed with SIGKILL while orders flow, and comes
back. Every order settles, nothing is dead-lettered, the invariants hold, and no effect is doubled.

The figures of the run (orders placed while a server was down, how long until the stream answered
again, messages redelivered) are written to `.artifacts/nats-node-loss.json` for docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import pytest
from nats.js import JetStreamContext

from brigade_common.devservers import NatsCluster
from brigade_contracts import streams
from tests.e2e.client import order, pay_until_answered, wait_status
from tests.e2e.harness import Stack, eventually, installed
from tests.e2e.reconcile import reconcile

REPLICAS = {f"{s.env_prefix}NATS_REPLICAS": "3" for s in installed()}
CONCURRENCY = 4
# Orders served before each loss, while a server is down, and after all are back.
AROUND_A_LOSS = 4
SETTLED = {"reserved", "failed", "served", "cancelled", "expired"}
ARTIFACT = Path(".artifacts/nats-node-loss.json")


@pytest.fixture
def nats_url(nats_cluster: NatsCluster) -> str:
    return nats_cluster.url


async def _leader(js: JetStreamContext, stream: str) -> str:
    async def known() -> str | None:
        try:
            info = await js.stream_info(stream)
        except nats.errors.Error:
            return None
        return info.cluster.leader if info.cluster else None

    leader: str = await eventually(known, 30, f"a leader for {stream}")
    return leader


async def _redelivered(js: JetStreamContext) -> dict[str, int] | None:
    """Each saga consumer's messages delivered again, or None while a restarted server is still
    catching up and the cluster does not answer."""
    counts = {}
    try:
        for name in (streams.KITCHEN.name, streams.WAREHOUSE.name, streams.PAYMENTS.name):
            for consumer in await js.consumers_info(name):
                counts[consumer.name] = consumer.num_redelivered or 0
    except nats.errors.Error:
        return None
    return counts


async def _dead_letters(js: JetStreamContext) -> tuple[int] | None:
    """How many messages the dead-letter stream holds (in a tuple, so that none is an answer), or None
    while a restarted server is still catching up and the cluster does not answer."""
    try:
        return ((await js.stream_info(streams.DLQ.name)).state.messages,)
    except nats.errors.Error:
        return None


def _write_figures(figures: dict[str, Any]) -> None:
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2) + "\n")


class Load:
    """Customers ordering a dish the warehouse must buy for, paying, and being served."""

    def __init__(self, http: httpx.AsyncClient, stack: Stack) -> None:
        self.http, self.stack = http, stack
        self.placed: list[str] = []
        self.outcomes: dict[str, str] = {}
        self.stopping = asyncio.Event()

    async def one(self) -> None:
        customer = f"customer-{uuid.uuid4().hex[:8]}"
        r = await order(self.http, self.stack, "ensalada-cesar", sub=customer)
        assert r.status_code in (201, 202), r.text
        placed = r.json()
        self.placed.append(placed["order_id"])
        # An order waits for its supply while a stream elects its new leader: longer than usual.
        done = await wait_status(self.http, self.stack, placed["order_id"], SETTLED, sub=customer, timeout=120)
        if done["status"] == "reserved":
            paid = await pay_until_answered(self.http, self.stack, done, key=str(uuid.uuid4()))
            assert paid.status_code in (200, 201), paid.text
            done = await wait_status(self.http, self.stack, placed["order_id"], {"served"}, sub=customer, timeout=120)
        self.outcomes[placed["order_id"]] = done["status"]

    async def run(self) -> None:
        """`CONCURRENCY` customers, each ordering again once served, until `stop`."""

        async def customer() -> None:
            while not self.stopping.is_set():
                await self.one()

        await asyncio.gather(*(customer() for _ in range(CONCURRENCY)))

    async def settled_at_least(self, count: int, running: asyncio.Task[None]) -> bool:
        if running.done():
            running.result()  # a customer's failure, raised here rather than waited out
            return False
        return len(self.outcomes) >= count


@pytest.mark.stack_env(
    **REPLICAS,
    KITCHEN_ORDER_WAIT_S="0.2",
    WAREHOUSE_SUPPLY_DEADLINE_S="120",
    KITCHEN_SUPPLY_WAIT_S="150",
    KITCHEN_PAYMENT_WINDOW_S="120",
)
async def test_losing_the_server_that_leads_a_stream_loses_and_doubles_nothing(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool, nats_cluster: NatsCluster
) -> None:
    nc = await nats.connect(nats_cluster.url.split(","))
    js = nc.jetstream(timeout=2.0)
    try:
        for name in (streams.KITCHEN.name, streams.WAREHOUSE.name):
            info = await js.stream_info(name)
            assert info.config.num_replicas == 3
            assert info.cluster is not None and len(info.cluster.replicas or []) == 2

        load = Load(http, stack)
        running = asyncio.create_task(load.run())
        figures: dict[str, Any] = {"concurrency": CONCURRENCY, "losses": []}
        for stream in (streams.KITCHEN.name, streams.WAREHOUSE.name):
            flowing = len(load.outcomes) + AROUND_A_LOSS
            await eventually(lambda n=flowing: load.settled_at_least(n, running), 120, "orders served before the loss")
            leader = await _leader(js, stream)
            placed_before = len(load.placed)
            killed_at = time.monotonic()
            nats_cluster.server(leader).kill()
            new_leader = await _leader(js, stream)
            answered_after = time.monotonic() - killed_at
            more = len(load.outcomes) + AROUND_A_LOSS
            await eventually(lambda n=more: load.settled_at_least(n, running), 120, "orders served without it")
            nats_cluster.server(leader).start()
            figures["losses"].append(
                {
                    "stream": stream,
                    "killed": leader,
                    "new_leader": new_leader,
                    "stream_answered_after_s": round(answered_after, 2),
                    "orders_placed_while_down": len(load.placed) - placed_before,
                    "down_for_s": round(time.monotonic() - killed_at, 2),
                }
            )
        after = len(load.outcomes) + AROUND_A_LOSS
        await eventually(lambda: load.settled_at_least(after, running), 120, "orders served with every server back")
        load.stopping.set()
        await asyncio.wait_for(running, 240)
        figures["orders"] = len(load.placed)

        assert len(load.outcomes) == len(load.placed)
        assert set(load.outcomes.values()) == {"served"}, load.outcomes
        assert await eventually(lambda: _dead_letters(js), 30, "the dead-letter stream's figures") == (0,)
        # Every supply was delivered once and every order served once.
        deliveries = await db.fetch(
            "SELECT request_id, count(*) AS n FROM warehouse.stock_movements WHERE reason = 'supply' "
            "GROUP BY request_id"
        )
        assert deliveries and all(r["n"] == 1 for r in deliveries)
        consumed = await db.fetch(
            "SELECT order_id, ingredient, count(*) AS n FROM kitchen.pantry_movements WHERE reason = 'consume' "
            "GROUP BY order_id, ingredient"
        )
        assert consumed and all(r["n"] == 1 for r in consumed)
        succeeded = await db.fetchval("SELECT count(*) FROM payments.payments WHERE status = 'succeeded'")
        assert succeeded == len(load.placed)
        await reconcile(db)

        redelivered = await eventually(lambda: _redelivered(js), 30, "the consumers' figures")
        figures["messages_redelivered"] = sum(redelivered.values())
        await asyncio.to_thread(_write_figures, figures)
    finally:
        await nc.close()
