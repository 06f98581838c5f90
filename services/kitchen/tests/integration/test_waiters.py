"""Waiting for an order's outcome on the order events (real NATS): the waiter gets its own order's
first settled state, whether the event names the order in its headers (as the kitchen sends them)
or not (an event from a kitchen older than those headers); the waiters listen only while some order
waits, and say when an outcome may have come before they did."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import nats
import pytest
from nats.aio.client import Client as NATS

from brigade_common.messaging import MessageContext
from brigade_common.testing.waiting import eventually
from brigade_contracts.kitchen import OrderStatus
from brigade_kitchen.adapters.messages import ORDER_ID, outgoing
from brigade_kitchen.adapters.waiters import NatsOrderWaiters
from brigade_kitchen.domain.events import OrderChanged, OrderState

MINE = OrderState(
    "6f1c0000-0000-4000-8000-00000000000a", "alice", "pan-simple", "Pan simple", 1, 450, OrderStatus.PENDING, 1, None
)
OTHER = dataclasses.replace(MINE, order_id="6f1c0000-0000-4000-8000-00000000000b", status=OrderStatus.FAILED)
RESERVED_AT = datetime(2026, 12, 3, 12, 0, 0, 250000, tzinfo=UTC)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    conn = await nats.connect(nats_url)
    yield conn
    await conn.drain()


@contextlib.asynccontextmanager
async def started(nc: NATS, **options: float) -> AsyncIterator[NatsOrderWaiters]:
    waiters = NatsOrderWaiters(**options)
    await waiters.start(nc)
    try:
        yield waiters
    finally:
        await waiters.stop()


async def _send(nc: NATS, state: OrderState, *, with_headers: bool = True, at: datetime | None = None) -> None:
    message = outgoing(OrderChanged(state, at=at))
    envelope = message.envelope(MessageContext("test"))
    headers = {**envelope.headers(), **message.headers} if with_headers else None
    await nc.publish(message.type, envelope.to_bytes(), headers=headers)


@pytest.mark.parametrize("with_headers", [True, False], ids=["headers", "no-headers"])
async def test_the_waiter_gets_its_orders_first_settled_state_and_nothing_else(nc: NATS, with_headers: bool) -> None:
    async with started(nc) as waiters:
        with waiters.register(MINE.order_id) as waiting:
            assert not await waiting.listen()  # nobody listened before: the caller reads the order once
            await _send(nc, OTHER, with_headers=with_headers)  # someone else's order
            await _send(nc, MINE, with_headers=with_headers)  # still pending: not an outcome
            reserved = dataclasses.replace(MINE, status=OrderStatus.RESERVED, version=2)
            await _send(nc, reserved, with_headers=with_headers, at=RESERVED_AT)
            await _send(nc, dataclasses.replace(MINE, status=OrderStatus.CANCELLED, version=3))
            # The state it entered, and when (what the caller's answer gives as `updated_at`).
            assert await asyncio.wait_for(waiting.settled, 5) == OrderChanged(reserved, at=RESERVED_AT)


async def test_the_waiters_listen_while_an_order_waits_and_stop_after_the_last(nc: NATS) -> None:
    async with started(nc, linger_s=0.05) as waiters:
        assert not waiters.subscribed  # no order waits: the order events do not come here
        with waiters.register(MINE.order_id) as first:
            assert not await first.listen() and waiters.subscribed
            # Registered while the subscription is on: nothing can be missed, the outcome comes.
            with waiters.register(OTHER.order_id) as second:
                assert await second.listen()
                await _send(nc, OTHER)
                assert (await asyncio.wait_for(second.settled, 5)).order == OTHER
            assert waiters.subscribed  # the first still waits
        await eventually(lambda: not waiters.subscribed, what="the subscription stopped after the last wait")
        with waiters.register(MINE.order_id) as again:
            assert not await again.listen()  # on again, and it says an outcome may have come meanwhile
            reserved = dataclasses.replace(MINE, status=OrderStatus.RESERVED, version=2)
            await _send(nc, reserved)
            assert (await asyncio.wait_for(again.settled, 5)).order == reserved


async def test_a_wait_that_starts_again_within_the_linger_finds_the_subscription_on(nc: NATS) -> None:
    async with started(nc, linger_s=60) as waiters:
        with waiters.register(MINE.order_id) as first:
            assert not await first.listen()
        with waiters.register(OTHER.order_id) as second:
            assert await second.listen()  # registered while it lingered on: nothing to read
    assert not waiters.subscribed


def test_the_order_events_name_the_order_in_their_headers() -> None:
    assert outgoing(OrderChanged(MINE)).headers[ORDER_ID] == MINE.order_id
