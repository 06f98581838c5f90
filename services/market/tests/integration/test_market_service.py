"""The market process in-process (its app lifespan) on a real nats-server: `market.buy` through
`brigade_common.rpc.call`, and its small HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS

from brigade_common import rpc
from brigade_common.jetstream import connect
from brigade_contracts.market import BUY, BuyReply, BuyRequest
from brigade_market.app import create_app
from brigade_market.config import Settings
from brigade_market.market import SUPPLIERS, Market

MarketFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await connect(nats_url, name="market-test")
    yield client
    await client.drain()


@pytest.fixture
def market(nats_url: str) -> MarketFactory:
    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(Settings(nats_url=nats_url, **settings))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://market") as http:
                yield http

    return start


async def buy(nc: NATS, ingredient: str, amount: int, timeout: float = 2.0) -> BuyReply:
    return await rpc.call(nc, BUY, BuyRequest(ingredient=ingredient, amount=amount), BuyReply, timeout=timeout)


async def test_buy_answers_a_typed_reply_and_the_seed_makes_it_reproducible(market: MarketFactory, nc: NATS) -> None:
    async with market(seed=9):
        replies = [await buy(nc, "lechuga", 6) for _ in range(30)]
    expected = Market.create(9)
    assert [(r.amount, r.supplier) for r in replies] == [expected.buy("lechuga", 6) for _ in range(30)]
    assert all(r.ingredient == "lechuga" and 0 <= r.amount <= 6 for r in replies)
    assert {r.supplier for r in replies} <= {name for _, name in SUPPLIERS}


async def test_max_units_bounds_the_answers(market: MarketFactory, nc: NATS) -> None:
    async with market(seed=1, max_units=2):
        amounts = {(await buy(nc, "pollo", 100)).amount for _ in range(40)}
    assert amounts == {0, 1, 2}


@pytest.mark.parametrize(
    "payload",
    [
        b'{"ingredient": "pollo", "amount": 0}',
        b'{"ingredient": "pollo"}',
        b'{"ingredient": "Pollo!", "amount": 1}',
        b'{"ingredient": "pollo", "amount": 1, "extra": true}',
        b"not json",
    ],
)
async def test_an_invalid_request_is_answered_with_error_400(market: MarketFactory, nc: NATS, payload: bytes) -> None:
    async with market(seed=1):
        msg = await nc.request(BUY, payload, timeout=2.0)
        # And through the typed client, for a request that its own model would have refused.
        with pytest.raises(rpc.RpcFailed) as failed:
            await rpc.call(nc, BUY, BuyRequest.model_construct(ingredient="pollo", amount=0), BuyReply, timeout=2.0)
    assert (msg.headers or {}).get(rpc.ERROR_CODE) == "400"
    assert "invalid request" in (msg.headers or {}).get(rpc.ERROR, "")
    assert failed.value.code == "400"


async def test_an_injected_failure_is_error_503(market: MarketFactory, nc: NATS) -> None:
    async with market(seed=1, failure_rate=1.0):
        with pytest.raises(rpc.RpcFailed) as failed:
            await buy(nc, "queso", 3)
    assert failed.value.code == "503"
    assert "queso" in failed.value.description


async def test_no_market_is_rpc_unavailable(nc: NATS) -> None:
    with pytest.raises(rpc.RpcUnavailable):
        await buy(nc, "queso", 3)


async def test_a_stopped_market_is_unavailable_again(market: MarketFactory, nc: NATS) -> None:
    async with market(seed=1):
        await buy(nc, "queso", 3)
    with pytest.raises(rpc.RpcUnavailable):
        await buy(nc, "queso", 3)


async def test_latency_delays_each_purchase_without_queueing_the_others(market: MarketFactory, nc: NATS) -> None:
    """Injected latency is per purchase: concurrent buyers wait it out side by side, not one after another
    (nats-py runs a subscription's callbacks one at a time, so the market must not answer inside them).
    Twenty buyers, 300 ms each, all within 2 s; queued they would need 6 s."""
    async with market(seed=1, latency_ms=300):
        replies = await asyncio.gather(*(buy(nc, "pasta", 5, timeout=2.0) for _ in range(20)))
        # Too slow for a caller with a short timeout: that caller sees a timeout, not an answer.
        with pytest.raises(rpc.RpcTimeout):
            await buy(nc, "pasta", 5, timeout=0.05)
    assert len(replies) == 20


async def test_http_suppliers_health_and_openapi(market: MarketFactory) -> None:
    async with market(seed=1) as http:
        r = await http.get("/api/market/suppliers")
        assert r.status_code == 200
        assert r.json() == [{"id": i, "name": n} for i, n in SUPPLIERS]
        health = await http.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert "nats" in ready.json()["checks"]
        doc = (await http.get("/api/market/openapi.json")).json()
        assert "/api/market/suppliers" in doc["paths"]
