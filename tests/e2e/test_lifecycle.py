"""An unpaid order expires through its JetStream schedule; a paid one is served."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from brigade_contracts.payments import PAYMENT_SUCCEEDED
from tests.e2e.client import messages_handled, order, pantry, pay, publish, wait_status
from tests.e2e.harness import Stack
from tests.e2e.reconcile import reconcile
from tests.e2e.test_messages import stream_envelopes


@pytest.mark.stack_env(KITCHEN_PAYMENT_WINDOW_S="1")
async def test_an_unpaid_order_expires_through_the_schedule_and_releases_its_hold(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    placed = (await order(http, stack, "pan-simple", 2)).json()
    assert placed["status"] == "reserved"
    assert (await pantry(http, stack))["jamon"]["reserved"] == 10
    expired = await wait_status(http, stack, placed["order_id"], {"expired"}, timeout=15)
    assert expired["reason"] == "not paid in time" and expired["version"] == placed["version"] + 1
    jamon = (await pantry(http, stack))["jamon"]
    # The hold is released; the ingredients stay in the pantry.
    assert jamon == {"ingredient": "jamon", "on_hand": 86, "reserved": 0, "available": 86, "version": 3}
    # The schedule fired once: one expiry event in the stream for this order.
    fired = await db.fetchval("SELECT count(*) FROM kitchen.inbox WHERE consumer = 'kitchen-expiry'")
    assert fired == 1
    await reconcile(db)


async def test_a_paid_order_is_served_and_its_ingredients_consumed_once(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    placed = (await order(http, stack, "pan-simple", 2)).json()
    assert placed["status"] == "reserved"
    paid = await pay(http, stack, placed)
    assert paid.status_code == 201, paid.text
    served = await wait_status(http, stack, placed["order_id"], {"served"})
    assert served["version"] == placed["version"] + 1
    # The payment's event again (a new Nats-Msg-Id: past the broker, stopped by the inbox), and a
    # second payment for the served order (refused by payments): no effect.
    [succeeded] = await stream_envelopes(stack, "PAYMENTS", PAYMENT_SUCCEEDED)
    await publish(stack, succeeded, msg_id="redelivered")
    assert (await pay(http, stack, placed)).status_code == 409
    await messages_handled(http, stack, "kitchen", "kitchen-payments", "duplicate")
    jamon = (await pantry(http, stack))["jamon"]
    assert jamon == {"ingredient": "jamon", "on_hand": 76, "reserved": 0, "available": 76, "version": 3}
    consumed = await db.fetch(
        "SELECT ingredient, delta FROM kitchen.pantry_movements WHERE reason = 'consume' ORDER BY ingredient"
    )
    assert [tuple(r) for r in consumed] == [
        ("jamon", -10),
        ("mayonesa", -4),
        ("pan_canilla", -2),
        ("queso", -10),
        ("salsa_tomate", -4),
    ]
    # A paid order can no longer be cancelled.
    r = await http.post(f"{stack.url('kitchen')}/api/kitchen/orders/{placed['order_id']}/cancel", headers=stack.auth())
    assert r.status_code == 409
    await reconcile(db)
