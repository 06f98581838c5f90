"""The warehouse (and, when a test wants one, the market) in-process, and what tests read back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import httpx
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js.api import PubAck
from starlette.applications import Starlette

from brigade_common import outbox
from brigade_common.dlq import DeadLetter, read_dead_letters
from brigade_common.envelope import MSG_ID, Envelope
from brigade_common.testing.inprocess import InProcess, TestKeys
from brigade_common.testing.waiting import eventually
from brigade_contracts import warehouse as w
from brigade_market.app import create_app as create_market_app
from brigade_market.config import Settings as MarketSettings

T = TypeVar("T")

SUPPLY_DLQ = "dlq.warehouse.warehouse-supply"


@asynccontextmanager
async def running(app: Starlette, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan and give an HTTP client on it (no sockets)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http


@asynccontextmanager
async def market(nats_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A real market process in-process: the `market.buy` NATS service and its HTTP API."""
    app = create_market_app(MarketSettings(nats_url=nats_url, **settings))
    async with running(app, "http://market") as http:
        yield http


@dataclass
class WarehouseClient:
    app: InProcess
    keys: TestKeys

    @property
    def http(self) -> httpx.AsyncClient:
        return self.app.http

    @property
    def db(self) -> asyncpg.Pool:
        return self.app.db

    @property
    def nc(self) -> NATS:
        return self.app.nc

    # --- driving it ----------------------------------------------------------------------------------

    async def send(
        self, data: dict[str, Any], *, envelope: Envelope | None = None, msg_id: str | None = None
    ) -> tuple[Envelope, PubAck]:
        """Publish a supply command as the kitchen's relay would (`msg_id` overrides `Nats-Msg-Id`)."""
        env = envelope or Envelope.wrap(w.SUPPLY_CMD, data)
        headers = env.headers()
        if msg_id is not None:
            headers[MSG_ID] = msg_id
        ack = await self.nc.jetstream().publish(w.SUPPLY_CMD, env.to_bytes(), headers=headers)
        return env, ack

    async def send_raw(self, payload: bytes) -> PubAck:
        return await self.nc.jetstream().publish(w.SUPPLY_CMD, payload)

    # --- reading it back -----------------------------------------------------------------------------

    async def stream(self, subject: str | None = None) -> list[tuple[str, Envelope]]:
        """Every message of the WAREHOUSE stream (optionally one subject), oldest first."""
        js = self.nc.jetstream()
        info = await js.stream_info("WAREHOUSE")
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await js.get_msg("WAREHOUSE", seq)
            except nats.js.errors.NotFoundError:
                continue
            if subject is None or msg.subject == subject:
                out.append((msg.subject or "", Envelope.from_bytes(msg.data or b"")))
        return out

    async def events(self, subject: str, request_id: str | None = None) -> list[dict[str, Any]]:
        """Payloads published on `subject` (for one request when `request_id` is given)."""
        payloads = [env.data for _, env in await self.stream(subject)]
        return [p for p in payloads if request_id is None or p.get("request_id") == request_id]

    async def outcome(self, request_id: str, timeout: float = 20.0) -> tuple[str, dict[str, Any]]:
        """Wait for the request's delivered or failed event; returns (subject, payload)."""

        async def settled() -> tuple[str, dict[str, Any]] | None:
            for subject in (w.SUPPLY_DELIVERED, w.SUPPLY_FAILED):
                found = await self.events(subject, request_id)
                if found:
                    return subject, found[0]
            return None

        return await eventually(settled, timeout, f"an outcome for {request_id}")

    async def dead_letters(self) -> list[DeadLetter]:
        try:
            return await read_dead_letters(self.nc.jetstream(), SUPPLY_DLQ)
        except nats.js.errors.NotFoundError:
            return []

    async def stock(self) -> dict[str, int]:
        r = await self.http.get("/api/warehouse/stock")
        assert r.status_code == 200, r.text
        return {item["ingredient"]: item["on_hand"] for item in r.json()}

    async def movements(self, **params: Any) -> dict[str, Any]:
        r = await self.http.get("/api/warehouse/stock/movements", params=params)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def purchases(self, **params: Any) -> dict[str, Any]:
        r = await self.http.get("/api/warehouse/purchases", params=params)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def all_pages(self, path: str, limit: int = 100) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            page = (await self.http.get(path, params=params)).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items

    async def ledger_mismatches(self) -> list[dict[str, Any]]:
        """Stock rows whose balance is not the sum of their ledger (should always be empty)."""
        rows = await self.db.fetch(
            "SELECT s.ingredient, s.on_hand, coalesce(sum(m.delta), 0) AS ledger FROM stock s "
            "LEFT JOIN stock_movements m USING (ingredient) GROUP BY s.ingredient, s.on_hand "
            "HAVING s.on_hand <> coalesce(sum(m.delta), 0)"
        )
        return [dict(r) for r in rows]

    async def hold_mismatches(self) -> list[dict[str, Any]]:
        """Stock rows whose held count is not what their open requests hold, and settled requests
        still holding something (both should always be empty)."""
        rows = await self.db.fetch(
            "SELECT s.ingredient, s.reserved, coalesce(sum(r.held) FILTER (WHERE r.status = 'open'), 0) AS held "
            "FROM stock s LEFT JOIN supply_requests r USING (ingredient) GROUP BY s.ingredient, s.reserved "
            "HAVING s.reserved <> coalesce(sum(r.held) FILTER (WHERE r.status = 'open'), 0) "
            "UNION ALL SELECT ingredient, NULL, held FROM supply_requests WHERE status <> 'open' AND held <> 0"
        )
        return [dict(r) for r in rows]

    async def request_status(self, request_id: str) -> str | None:
        status: str | None = await self.db.fetchval(
            "SELECT status FROM supply_requests WHERE id = $1::uuid", request_id
        )
        return status

    async def consumer_pending(self) -> tuple[int, int]:
        """(messages not yet delivered, delivered but not acked) of the supply consumer."""
        info = await self.nc.jetstream().consumer_info("WAREHOUSE", "warehouse-supply")
        return info.num_pending, info.num_ack_pending


# Seed 000's warehouse stock (brigade_warehouse.adapters.seed).
SEED_STOCK = {"lechuga": 2, "pollo": 4}


def command(ingredient: str, amount: int, request_id: str | None = None) -> dict[str, Any]:
    return {
        "request_id": request_id or str(uuid.uuid4()),
        "order_id": f"order-{uuid.uuid4().hex[:8]}",
        "ingredient": ingredient,
        "amount": amount,
    }


async def settled(wh: WarehouseClient, timeout: float = 20.0) -> None:
    """Every command on the stream has been handled and acknowledged (or dead-lettered), and every event
    those commands caused has left the outbox for the stream (the relay publishes after the ack)."""

    async def idle() -> bool:
        pending, unacked = await wh.consumer_pending()
        return pending == 0 and unacked == 0 and await outbox.pending_count(wh.db) == 0

    await eventually(idle, timeout, "an idle supply consumer and an empty outbox")


async def movements_for(wh: WarehouseClient, request_id: str) -> list[dict[str, Any]]:
    """The request's ledger rows, oldest first."""
    rows = await wh.all_pages("/api/warehouse/stock/movements")
    return [m for m in reversed(rows) if m["request_id"] == request_id]


async def purchases_for(wh: WarehouseClient, request_id: str) -> list[dict[str, Any]]:
    rows = await wh.all_pages("/api/warehouse/purchases")
    return [p for p in reversed(rows) if p["request_id"] == request_id]


async def check_invariants(wh: WarehouseClient) -> None:
    """DESIGN §3, the warehouse's share: no balance below zero, each balance the sum of its ledger, what
    each holds for requests what its open requests hold, one outcome per request, and every unit bought
    is a `purchase` movement."""
    await settled(wh)
    assert await wh.ledger_mismatches() == []
    assert await wh.hold_mismatches() == []
    assert all(v >= 0 for v in (await wh.stock()).values())
    ledger = await wh.all_pages("/api/warehouse/stock/movements")
    running: dict[str, int] = {}
    for m in reversed(ledger):
        running[m["ingredient"]] = running.get(m["ingredient"], 0) + m["delta"]
        assert running[m["ingredient"]] >= 0, f"stock went negative at movement {m}"
    # Each move's event is its ledger row with the balance and version right after it: in the ledger's
    # order, each ingredient's events chain (several moves of a row in one transaction too).
    moved = sorted(await wh.events(w.STOCK_MOVED), key=lambda e: e["movement_id"])
    rows = [m for m in reversed(ledger) if m["reason"] != "seed"]  # the seed sends no events
    assert [(e["movement_id"], e["ingredient"], e["delta"], e["request_id"]) for e in moved] == [
        (m["id"], m["ingredient"], m["delta"], m["request_id"]) for m in rows
    ]
    last: dict[str, dict[str, Any]] = {}
    for event in moved:
        assert event["balance"] >= 0
        before = last.get(event["ingredient"])
        if before is not None:
            assert (event["balance"], event["version"]) == (before["balance"] + event["delta"], before["version"] + 1)
        last[event["ingredient"]] = event
    outcomes = [e["request_id"] for s in (w.SUPPLY_DELIVERED, w.SUPPLY_FAILED) for e in await wh.events(s)]
    assert len(outcomes) == len(set(outcomes)), "a request had more than one outcome"
    purchases = await wh.all_pages("/api/warehouse/purchases")
    bought = sum(p["received"] for p in purchases)
    assert bought == sum(m["delta"] for m in ledger if m["reason"] == "purchase")
    assert len(await wh.events(w.PURCHASE_MADE)) == len(purchases)
    delivered = {e["request_id"]: e["amount"] for e in await wh.events(w.SUPPLY_DELIVERED)}
    supplied: dict[str, int] = {}
    for m in ledger:
        if m["reason"] == "supply":
            supplied[m["request_id"]] = supplied.get(m["request_id"], 0) - m["delta"]
    assert supplied == delivered, "each delivery is exactly one debit of its amount"
