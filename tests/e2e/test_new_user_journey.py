"""A new user's whole journey through the gateway, as a person would make it: sign up, sign in, order,
pay with `tok_visa`, the dish served, a receipt in the notifications and in the mailbox of a real
SMTP server the test runs. Every token comes from the real auth service: the services verify them
with auth's keys over NATS (no fixed key), as they do when deployed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from brigade_common.devservers import free_port
from brigade_common.testing.waiting import eventually
from services.notifications.tests.integration.smtp_server import SmtpCatcher
from tests.e2e.harness import Stack, running
from tests.load.stack import start_with_gateway


@pytest.fixture
async def mailbox() -> AsyncIterator[SmtpCatcher]:
    catcher = await SmtpCatcher(free_port()).start()
    try:
        yield catcher
    finally:
        await catcher.stop()


@pytest.fixture
async def site(
    database_url: str, nats_url: str, tmp_path: Path, mailbox: SmtpCatcher, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Stack, str]]:
    """Every service and the gateway; no service is given a fixed key (an empty `JWT_PUBLIC_KEYS`
    means: ask the auth service), and the notifications service sends to `mailbox`."""
    stack = Stack(database_url, nats_url, tmp_path, {"MARKET_SEED": "7", "WAREHOUSE_MARKET_RETRY_S": "0.01"})
    stack.overrides.update({f"{s.env_prefix}JWT_PUBLIC_KEYS": "" for s in stack.catalog})
    stack.overrides.update({"NOTIFICATIONS_SMTP_HOST": "127.0.0.1", "NOTIFICATIONS_SMTP_PORT": str(mailbox.port)})
    try:
        async with running(stack):
            yield stack, await start_with_gateway(stack)
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(stack.logs())


async def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


async def test_a_new_user_signs_up_orders_pays_is_served_and_gets_a_receipt_by_mail(
    site: tuple[Stack, str], mailbox: SmtpCatcher
) -> None:
    _, gateway = site
    email, password = f"nora-{uuid.uuid4().hex[:6]}@example.com", "a long enough passphrase"
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
        user = await _json(
            await http.post("/api/auth/signup", json={"email": email, "password": password, "display_name": "Nora"}),
            201,
        )
        assert user["roles"] == ["customer"] and "password" not in str(user).lower()
        signed_in = await _json(await http.post("/api/auth/signin", json={"email": email, "password": password}), 200)
        http.cookies.clear()  # from here on, the bearer token an API client sends
        bearer = {"Authorization": f"Bearer {signed_in['access_token']}"}
        assert (await _json(await http.get("/api/auth/me", headers=bearer), 200))["email"] == email

        headers = {**bearer, "Idempotency-Key": str(uuid.uuid4())}
        placed = await http.post("/api/kitchen/orders", json={"dish_id": "pan-simple", "quantity": 1}, headers=headers)
        assert placed.status_code in (201, 202), placed.text
        order_id = placed.json()["order_id"]

        async def order_is(*statuses: str) -> dict[str, Any] | None:
            got: dict[str, Any] = await _json(await http.get(f"/api/kitchen/orders/{order_id}", headers=bearer), 200)
            return got if got["status"] in statuses else None

        reserved = await eventually(lambda: order_is("reserved", "failed"), 30, "the order reserved")
        assert reserved["status"] == "reserved", reserved
        assert reserved["customer_id"] == user["id"], "the order is the signed-up user's"

        payment = await _json(
            await http.post(
                "/api/payments",
                json={"order_id": order_id, "token": "tok_visa"},
                headers={**bearer, "Idempotency-Key": str(uuid.uuid4())},
            ),
            201,
        )
        assert payment["status"] == "succeeded"
        assert payment["amount_cents"] == reserved["total_cents"], "the order's price, not the client's"
        await eventually(lambda: order_is("served"), 30, "the order served")

        async def receipt() -> dict[str, Any] | None:
            page = await _json(await http.get("/api/notifications/notifications", headers=bearer), 200)
            kinds = {n["kind"]: n for n in page["items"]}
            return kinds.get("payment_receipt")

        noticed = await eventually(receipt, 30, "the receipt among the notifications")
        assert noticed["data"]["order_id"] == order_id

    def mailed() -> list[str] | None:
        subjects = mailbox.subjects(email)
        return subjects if "Payment received" in subjects and any("Welcome" in s for s in subjects) else None

    subjects = await eventually(mailed, 30, "the welcome and the receipt in the user's mailbox")
    receipts = [r for r in mailbox.to(email) if r.message["Subject"] == "Payment received"]
    assert len(receipts) == 1, f"one receipt, not {subjects}"
    text = receipts[0].part("plain")
    cents = reserved["total_cents"]
    assert f"{cents // 100}.{cents % 100:02d}" in text, "the receipt says what was paid"
    assert password not in text and signed_in["access_token"] not in text
