"""Duplicates change nothing; poison messages land in the dead-letter stream and the kitchen carries on."""

from __future__ import annotations

import asyncpg
import httpx
import nats

from brigade_common.dlq import read_dead_letters
from brigade_common.envelope import Envelope
from brigade_contracts.warehouse import SUPPLY_DELIVERED, SupplyDelivered
from tests.e2e.client import order, pantry, publish, settled
from tests.e2e.harness import Stack, eventually
from tests.e2e.reconcile import reconcile


async def stream_envelopes(stack: Stack, stream: str, subject: str) -> list[Envelope]:
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream, subjects_filter=subject)
        total = sum((info.state.subjects or {}).values())
        sub = await js.subscribe(subject, stream=stream, ordered_consumer=True)
        out = [Envelope.from_bytes((await sub.next_msg(timeout=5)).data) for _ in range(total)]
        await sub.unsubscribe()
        return out
    finally:
        await nc.drain()


async def test_a_redelivered_or_resent_delivery_credits_the_pantry_once(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """Seed 004: a replay that reaches the kitchen again (same envelope) has no second effect."""
    placed = await settled(http, stack, (await order(http, stack, "ensalada-cesar")).json()["order_id"])
    assert placed["status"] == "reserved"
    [delivered] = await stream_envelopes(stack, "WAREHOUSE", SUPPLY_DELIVERED)
    await publish(stack, delivered)  # same Nats-Msg-Id: the broker drops it
    await publish(stack, delivered, msg_id="a-replay-with-a-new-msg-id")  # the inbox drops it
    # A later order proves the kitchen consumed past both copies before we look.
    later = await settled(http, stack, (await order(http, stack, "pollo-plancha")).json()["order_id"])
    assert later["status"] == "reserved"
    lechuga = (await pantry(http, stack))["lechuga"]
    credited = await db.fetchval(
        "SELECT count(*) FROM kitchen.pantry_movements WHERE reason = 'delivery' AND order_id = $1::uuid",
        placed["order_id"],
    )
    assert credited == 1
    assert lechuga["on_hand"] == lechuga["reserved"] == 5 + 2
    await reconcile(db)


async def test_poison_messages_are_dead_lettered_and_the_kitchen_carries_on(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    nc = await nats.connect(stack.nats_url)
    js = nc.jetstream()
    try:
        await js.publish(SUPPLY_DELIVERED, b"{not json")
        unknown = Envelope.wrap(
            SUPPLY_DELIVERED,
            SupplyDelivered(
                request_id="00000000-0000-0000-0000-000000000000",
                order_id="nope",
                ingredient="lechuga",
                amount=3,
            ),
        )
        await js.publish(SUPPLY_DELIVERED, unknown.to_bytes(), headers=unknown.headers())
        wrong_shape = Envelope.wrap(SUPPLY_DELIVERED, {"amount": -1})
        await js.publish(SUPPLY_DELIVERED, wrong_shape.to_bytes(), headers=wrong_shape.headers())

        async def three_letters() -> bool:
            return len(await read_dead_letters(js, "dlq.kitchen.kitchen-supply")) == 3

        await eventually(three_letters, 15, "three dead letters")
        letters = await read_dead_letters(js, "dlq.kitchen.kitchen-supply")
        assert all(d.original_subject == SUPPLY_DELIVERED and d.error for d in letters)
        assert any("invalid envelope" in d.error for d in letters)
        assert any("no supply request" in d.error for d in letters)
    finally:
        await nc.drain()
    # The consumer was not stuck on them: a new order still completes through the warehouse.
    placed = await settled(http, stack, (await order(http, stack, "ensalada-cesar")).json()["order_id"])
    assert placed["status"] == "reserved"
    assert await db.fetchval("SELECT count(*) FROM kitchen.pantry_movements WHERE reason = 'delivery'") == 1
    await reconcile(db)
