"""What a customer and an operator do over HTTP, plus publishing the events other services own."""

from __future__ import annotations

from typing import Any

import httpx
import nats

from brigade_common.envelope import Envelope
from brigade_contracts.payments import PAYMENT_SUCCEEDED, PaymentSucceeded
from tests.e2e.harness import Stack, eventually


async def order(
    http: httpx.AsyncClient,
    stack: Stack,
    dish_id: str,
    quantity: int = 1,
    sub: str = "customer-demo",
    key: str | None = None,
) -> httpx.Response:
    headers = stack.auth(sub)
    if key:
        headers["Idempotency-Key"] = key
    return await http.post(
        f"{stack.url('kitchen')}/api/kitchen/orders", json={"dish_id": dish_id, "quantity": quantity}, headers=headers
    )


async def get_order(http: httpx.AsyncClient, stack: Stack, order_id: str, sub: str = "customer-demo") -> dict[str, Any]:
    r = await http.get(f"{stack.url('kitchen')}/api/kitchen/orders/{order_id}", headers=stack.auth(sub))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def wait_status(
    http: httpx.AsyncClient,
    stack: Stack,
    order_id: str,
    statuses: set[str],
    sub: str = "customer-demo",
    timeout: float = 30,
) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        body = await get_order(http, stack, order_id, sub)
        return body if body["status"] in statuses else None

    result: dict[str, Any] = await eventually(reached, timeout, f"order {order_id} in {statuses}")
    return result


async def settled(http: httpx.AsyncClient, stack: Stack, order_id: str, sub: str = "customer-demo") -> dict[str, Any]:
    return await wait_status(http, stack, order_id, {"reserved", "failed", "served", "cancelled", "expired"}, sub)


async def pantry(http: httpx.AsyncClient, stack: Stack) -> dict[str, dict[str, int]]:
    r = await http.get(f"{stack.url('kitchen')}/api/kitchen/pantry", headers=stack.staff())
    assert r.status_code == 200, r.text
    return {row["ingredient"]: row for row in r.json()}


async def stock(http: httpx.AsyncClient, stack: Stack) -> dict[str, int]:
    r = await http.get(f"{stack.url('warehouse')}/api/warehouse/stock", headers=stack.staff())
    assert r.status_code == 200, r.text
    return {row["ingredient"]: row["on_hand"] for row in r.json()}


async def purchases(http: httpx.AsyncClient, stack: Stack) -> list[dict[str, Any]]:
    """The newest page of the warehouse's purchases from the market."""
    r = await http.get(f"{stack.url('warehouse')}/api/warehouse/purchases", headers=stack.staff())
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def publish(stack: Stack, envelope: Envelope, msg_id: str | None = None) -> None:
    """Publish to JetStream as the owning service would (tests stand in for services not yet built)."""
    nc = await nats.connect(stack.nats_url)
    try:
        headers = envelope.headers()
        if msg_id:
            headers["Nats-Msg-Id"] = msg_id
        await nc.jetstream().publish(envelope.type, envelope.to_bytes(), headers=headers)
    finally:
        await nc.drain()


def payment(order: dict[str, Any], payment_id: str = "pay-1") -> Envelope:
    return Envelope.wrap(
        PAYMENT_SUCCEEDED,
        PaymentSucceeded(
            payment_id=payment_id,
            order_id=order["order_id"],
            customer_id=order["customer_id"],
            amount_cents=order["total_cents"],
        ),
    )
