"""What a customer and an operator do over HTTP, plus publishing events by hand where a test needs a
message no service would send (a duplicate, a malformed one)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import nats

from brigade_common.envelope import Envelope
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


async def pay(
    http: httpx.AsyncClient,
    stack: Stack,
    order: dict[str, Any],
    token: str = "tok_visa",
    key: str | None = None,
) -> httpx.Response:
    """The order's customer pays for it through the payments API."""
    headers = stack.auth(order["customer_id"])
    if key:
        headers["Idempotency-Key"] = key
    return await http.post(
        f"{stack.url('payments')}/api/payments", json={"order_id": order["order_id"], "token": token}, headers=headers
    )


async def pay_until_answered(
    http: httpx.AsyncClient, stack: Stack, order: dict[str, Any], key: str, timeout: float = 60
) -> httpx.Response:
    """Pay, sending the same request again (same key) while the service answers 503, as a client
    told `Retry-After` does."""

    async def answered() -> httpx.Response | None:
        try:
            r = await pay(http, stack, order, key=key)
        except httpx.TransportError:
            return None
        return None if r.status_code == 503 else r

    result: httpx.Response = await eventually(answered, timeout, f"a payment for {order['order_id']} answered")
    return result


async def payments_of(http: httpx.AsyncClient, stack: Stack, order: dict[str, Any]) -> list[dict[str, Any]]:
    r = await http.get(
        f"{stack.url('payments')}/api/payments",
        params={"order_id": order["order_id"]},
        headers=stack.auth(order["customer_id"]),
    )
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def money_settled(http: httpx.AsyncClient, stack: Stack, order: dict[str, Any]) -> list[str]:
    """Wait until the order's money is where it belongs: charged once if the order was served, else
    nothing kept (declined, or refunded); the payments' statuses, oldest first."""
    final = await wait_status(http, stack, order["order_id"], {"served", "expired", "cancelled", "failed"})

    async def settled_money() -> list[str] | None:
        statuses = [p["status"] for p in reversed(await payments_of(http, stack, order))]
        kept = statuses.count("succeeded")
        if "processing" in statuses or kept != (1 if final["status"] == "served" else 0):
            return None
        return statuses or ["none"]

    result: list[str] = await eventually(settled_money, 30, f"the money of order {order['order_id']} settled")
    return [s for s in result if s != "none"]


async def messages_handled(
    http: httpx.AsyncClient, stack: Stack, service: str, consumer: str, outcome: str = "ack", at_least: int = 1
) -> None:
    """Wait until `service`'s `consumer` has settled `at_least` messages with `outcome` (`ack`,
    `duplicate`, `dlq`), by its own metrics."""
    pattern = re.compile(
        rf'^brigade_messages_total{{consumer="{consumer}",outcome="{outcome}",service="{service}"}} ([0-9.e+]+)$',
        re.MULTILINE,
    )

    async def enough() -> bool:
        found = pattern.search((await http.get(f"{stack.url(service)}/metrics")).text)
        return found is not None and float(found.group(1)) >= at_least

    await eventually(enough, 30, f"{at_least} {outcome} by {service}'s {consumer}")


async def publish(stack: Stack, envelope: Envelope, msg_id: str | None = None) -> None:
    """Publish to JetStream by hand: a duplicate or a message no service would send."""
    nc = await nats.connect(stack.nats_url)
    try:
        headers = envelope.headers()
        if msg_id:
            headers["Nats-Msg-Id"] = msg_id
        await nc.jetstream().publish(envelope.type, envelope.to_bytes(), headers=headers)
    finally:
        await nc.drain()
