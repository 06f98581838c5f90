"""Market process: the `market.buy` NATS service (nats.micro) and a small HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from nats.micro import add_service
from nats.micro.request import Request as MicroRequest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from brigade_common import rpc
from brigade_common.health import ReadinessChecks, nats_check
from brigade_common.http import create_app as create_http_app
from brigade_common.http import json_response
from brigade_common.jetstream import connect
from brigade_common.openapi import OpenAPI
from brigade_contracts.market import BUY, BuyReply, BuyRequest
from brigade_market.config import SERVICE, Settings
from brigade_market.market import SUPPLIERS, Market, MarketClosed

api = OpenAPI(title="Brigade market", version="1.0.0")


class Supplier(BaseModel):
    id: str
    name: str


@api.route("GET", "/api/market/suppliers", responses={200: list[Supplier]}, summary="Who the market buys from")
async def suppliers(request: Request) -> Response:
    return json_response([Supplier(id=i, name=n) for i, n in SUPPLIERS])


def buy_handler(market: Market, latency_s: float):  # type: ignore[no-untyped-def]
    async def buy(req: BuyRequest) -> BuyReply:
        if latency_s:
            await asyncio.sleep(latency_s)  # injected latency: the point is to be slow
        try:
            amount, supplier = market.buy(req.ingredient, req.amount)
        except MarketClosed as exc:
            raise rpc.RpcFailed("503", str(exc)) from exc
        return BuyReply(ingredient=req.ingredient, amount=amount, supplier=supplier)

    return rpc.endpoint(BuyRequest, buy)


MicroHandler = Callable[[MicroRequest], Awaitable[None]]


def concurrent(handler: MicroHandler, in_flight: set[asyncio.Task[None]]) -> MicroHandler:
    """Answer each request in its own task: nats-py runs a subscription's callbacks one at a time, so
    without this an injected latency would queue every purchase behind the previous one."""

    async def dispatch(req: MicroRequest) -> None:
        async def answer() -> None:
            await handler(req)

        task = asyncio.create_task(answer())
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)

    return dispatch


def create_app(settings: Settings) -> Starlette:
    readiness = ReadinessChecks()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nc = await connect(settings.nats_url, name=SERVICE)
        market = Market.create(settings.seed, settings.max_units, settings.failure_rate)
        service = await add_service(
            nc, name="market", version="1.0.0", description="Simulated suppliers: 0-10 units per purchase"
        )
        in_flight: set[asyncio.Task[None]] = set()
        await service.add_endpoint(
            name="buy",
            subject=BUY,
            queue_group="market",
            handler=concurrent(buy_handler(market, settings.latency_ms / 1000), in_flight),
        )
        # The server must have the subscription before start-up reports done, or a request sent the moment
        # the lifespan returns meets "no responders". nats-py puts a flush's PING *ahead* of commands still
        # pending, so the first round trip can overtake the SUB; the second is sent after it.
        await nc.flush()
        await nc.flush()
        readiness.add("nats", nats_check(nc))
        try:
            yield
        finally:
            await service.stop()
            # Requests still waiting out their injected latency have bought nothing: drop them, the
            # caller's timeout and retry cover it.
            for task in list(in_flight):
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            await nc.drain()

    return create_http_app(service=SERVICE, routes=api.routes, lifespan=lifespan, readiness=readiness, openapi=api)
