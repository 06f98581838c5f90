"""The payments app in-process for integration tests, and what its tests do around it: publish the
kitchen's order events, stand in for the kitchen's request-reply endpoint, read the streams."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from nats.micro import add_service

from brigade_common import rpc
from brigade_common.envelope import Envelope
from brigade_common.testing.inprocess import InProcess, TestKeys
from brigade_common.testing.waiting import eventually
from brigade_contracts import kitchen as k

PAYMENTS = "/api/payments"


def snapshot(order_id: str, status: str = "reserved", version: int = 2, customer: str = "alice") -> k.OrderSnapshot:
    return k.OrderSnapshot(
        order_id=order_id,
        customer_id=customer,
        dish_id="pan-simple",
        dish_name="Pan simple",
        quantity=1,
        total_cents=900,
        status=k.OrderStatus(status),
        version=version,
    )


def new_order_id() -> str:
    return str(uuid.uuid4())


@dataclass
class PaymentsClient:
    app: InProcess
    keys: TestKeys

    @property
    def http(self) -> httpx.AsyncClient:
        return self.app.http

    @property
    def db(self) -> asyncpg.Pool:
        return self.app.db

    def auth(
        self, sub: str = "alice", roles: tuple[str, ...] = ("customer",), key: str | None = None
    ) -> dict[str, str]:
        headers = self.keys.auth(sub, roles)
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    async def pay(
        self, order_id: str, token: str = "tok_visa", sub: str = "alice", key: str | None = None
    ) -> httpx.Response:
        return await self.http.post(
            PAYMENTS, json={"order_id": order_id, "token": token}, headers=self.auth(sub, key=key)
        )

    async def publish_order(self, order: k.OrderSnapshot, envelope_id: str | None = None) -> Envelope:
        """The kitchen's event for `order` entering its status, as the kitchen's relay sends it."""
        env = Envelope.wrap(k.ORDER_EVENT_TYPES[order.status], order)
        if envelope_id is not None:
            env = env.model_copy(update={"id": envelope_id})
        await self.app.nc.jetstream().publish(env.type, env.to_bytes(), headers=env.headers())
        return env

    async def replica(self, order_id: str) -> tuple[str, int] | None:
        row = await self.db.fetchrow("SELECT status, version FROM orders WHERE order_id = $1::uuid", order_id)
        return (row["status"], row["version"]) if row else None

    async def known(self, order: k.OrderSnapshot) -> None:
        """Publish `order` and wait until the replica holds it."""
        await self.publish_order(order)

        async def held() -> bool:
            return await self.replica(order.order_id) == (order.status.value, order.version)

        await eventually(held, 10, f"the replica holding {order.order_id} v{order.version}")

    async def events(self, subject: str, count: int, stream: str = "PAYMENTS") -> list[Envelope]:
        """The messages on `subject`, once the stream holds `count` of them (the relay sends them
        right after the commit, not with the answer)."""
        js = self.app.nc.jetstream()

        async def stored() -> int:
            info = await js.stream_info(stream, subjects_filter=subject)
            return sum((info.state.subjects or {}).values())

        async def enough() -> bool:
            return await stored() >= count

        await eventually(enough, 10, f"{count} {subject} in {stream}")
        total = await stored()
        sub = await js.subscribe(subject, stream=stream, ordered_consumer=True)
        try:
            return [Envelope.from_bytes((await sub.next_msg(timeout=5)).data) for _ in range(total)]
        finally:
            await sub.unsubscribe()


@asynccontextmanager
async def kitchen_answering(app: InProcess, orders: dict[str, k.OrderSnapshot]) -> AsyncIterator[list[str]]:
    """A stand-in for the kitchen's `rpc.kitchen.order.get` endpoint, answering from `orders` (404
    for any other); yields the ids it was asked for."""
    asked: list[str] = []

    async def get(req: k.OrderRequest) -> k.OrderSnapshot:
        asked.append(req.order_id)
        if req.order_id not in orders:
            raise rpc.RpcFailed("404", f"no order with id {req.order_id!r}")
        return orders[req.order_id]

    service = await add_service(app.nc, name="kitchen", version="1.0.0")
    await service.add_endpoint(name="order-get", subject=k.ORDER_GET, handler=rpc.endpoint(k.OrderRequest, get))
    await app.nc.flush()
    await app.nc.flush()
    try:
        yield asked
    finally:
        await service.stop()


def problem(r: httpx.Response) -> dict[str, Any]:
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    body: dict[str, Any] = r.json()
    return body
