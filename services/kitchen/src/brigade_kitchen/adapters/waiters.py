"""Waiting for an order to leave `pending`, on any replica.

One core NATS subscription per process on the order events; a request registers its future *before*
its transaction commits, so even a reply that arrives before the commit returns is not missed (the
bug of the original kitchen). Whichever replica settles the order, its event reaches every waiter.

Every order event of every replica reaches this subscription, and almost none is waited for (an
order the pantry covers is settled by its own transaction). The events carry the order's id
in a header (adapters/messages.py), so the others are passed over without parsing the envelope;
an event without it (sent before it existed) is parsed as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterator

import pydantic
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from brigade_common.envelope import Envelope
from brigade_contracts.kitchen import ORDER_EVENTS, OrderSnapshot, OrderStatus
from brigade_kitchen.adapters.messages import ORDER_ID
from brigade_kitchen.domain.events import OrderState


class NatsOrderWaiters:
    def __init__(self) -> None:
        self._waiting: dict[str, list[asyncio.Future[OrderState]]] = defaultdict(list)
        self._sub: Subscription | None = None

    async def start(self, nc: NATS) -> None:
        self._sub = await nc.subscribe(ORDER_EVENTS, cb=self._on_event)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    @contextlib.contextmanager
    def register(self, order_id: str) -> Iterator[asyncio.Future[OrderState]]:
        """Register before commit; the future resolves with the first non-pending state."""
        fut: asyncio.Future[OrderState] = asyncio.get_running_loop().create_future()
        self._waiting[order_id].append(fut)
        try:
            yield fut
        finally:
            futures = self._waiting.get(order_id, [])
            if fut in futures:
                futures.remove(fut)
            if not futures:
                self._waiting.pop(order_id, None)

    async def _on_event(self, msg: Msg) -> None:
        headers = msg.headers
        if headers is not None:
            order_id = headers.get(ORDER_ID)
            if order_id is not None and order_id not in self._waiting:
                return
        try:
            snapshot = OrderSnapshot.model_validate(Envelope.from_bytes(msg.data).data)
        except pydantic.ValidationError:
            return
        if snapshot.status is OrderStatus.PENDING:
            return
        waiting = self._waiting.get(snapshot.order_id)
        if not waiting:
            return
        state = OrderState(**snapshot.model_dump())
        for fut in waiting:
            if not fut.done():
                fut.set_result(state)
