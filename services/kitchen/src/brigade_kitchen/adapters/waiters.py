"""Waiting for an order to leave `pending`, on any replica.

One core NATS subscription per process on the order events, and only while some order placed here
waits for its outcome. Most orders never wait (the pantry covers them: their own transaction settles
them), and every order event of every replica would otherwise reach this process to be passed over:
under load that was a third of the messages the kitchen received (docs/benchmarks.md). So the
subscription starts when a pending order first waits and stops `linger_s` after the last wait ended.

Nothing is missed either way (the bug of the original kitchen was a reply that came before anyone
listened). A request registers before its transaction commits; when it then waits (`listen`):
- if the subscription was on all along since the registration, the outcome reaches the future, even
  one that came before the commit returned;
- if not, the subscription starts and the server confirms it, and `listen` says so (False): an
  outcome committed before that moment was not heard, so the caller reads the order once. Whatever
  commits after the confirmation is published after it, and reaches the future.

The events carry the order's id in a header (adapters/messages.py), so those of other orders are
passed over without parsing the envelope; an event without it (sent before it existed) is parsed.
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
from brigade_common.logging import get_logger
from brigade_contracts.kitchen import ORDER_EVENTS, OrderSnapshot, OrderStatus
from brigade_kitchen.adapters.messages import ORDER_ID
from brigade_kitchen.domain.events import OrderChanged, OrderState

log = get_logger(__name__)


class Waiting:
    """One registered order: `settled` resolves with its first change past `pending` (the state it
    entered, at the time its event says)."""

    def __init__(self, waiters: NatsOrderWaiters, settled: asyncio.Future[OrderChanged], since: int | None) -> None:
        self.settled = settled
        self.since = since  # the subscription that was on at the registration (None: none was)
        self.listening = False
        self._waiters = waiters

    async def listen(self) -> bool:
        """Make sure the outcome reaches `settled` from now on. False when it may have come before,
        while nobody listened: then the caller reads the order once."""
        return await self._waiters.listen(self)


class NatsOrderWaiters:
    def __init__(self, *, linger_s: float = 30.0) -> None:
        self._waiting: dict[str, list[asyncio.Future[OrderChanged]]] = defaultdict(list)
        self._nc: NATS | None = None
        self._sub: Subscription | None = None
        self._generation = 0  # subscriptions started so far: the current one's number
        self._listeners = 0  # waits going on, that need the subscription
        self._linger_s = linger_s
        self._idle: asyncio.TimerHandle | None = None
        self._switch = asyncio.Lock()
        self._stopping: set[asyncio.Task[None]] = set()

    @property
    def subscribed(self) -> bool:
        return self._sub is not None

    async def start(self, nc: NATS) -> None:
        self._nc = nc

    async def stop(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        await asyncio.gather(*self._stopping, return_exceptions=True)

    @contextlib.contextmanager
    def register(self, order_id: str) -> Iterator[Waiting]:
        """Register before commit; the future resolves with the first non-pending state."""
        fut: asyncio.Future[OrderChanged] = asyncio.get_running_loop().create_future()
        self._waiting[order_id].append(fut)
        waiting = Waiting(self, fut, self._generation if self._sub is not None else None)
        try:
            yield waiting
        finally:
            futures = self._waiting.get(order_id, [])
            if fut in futures:
                futures.remove(fut)
            if not futures:
                self._waiting.pop(order_id, None)
            if waiting.listening:
                self._done_listening()

    async def listen(self, waiting: Waiting) -> bool:
        if not waiting.listening:
            waiting.listening = True
            self._listeners += 1
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
        if self._sub is not None and waiting.since == self._generation:
            return True  # on since the registration: nothing was missed
        async with self._switch:
            if self._sub is None:
                assert self._nc is not None, "start() first"
                try:
                    self._sub = await self._subscribe(self._nc)
                except Exception as exc:  # NATS is away: the caller reads the order, and again at its timeout
                    log.warning("order_waiters_subscribe_failed", error=repr(exc))
                    return False
                self._generation += 1
        return False

    async def _subscribe(self, nc: NATS) -> Subscription:
        """The subscription, once the server has it (whatever is published from then on reaches it)."""
        sub = await nc.subscribe(ORDER_EVENTS, cb=self._on_event)
        try:
            await nc.flush(timeout=2)
        except BaseException:
            await self._unsubscribe(sub)
            raise
        return sub

    def _done_listening(self) -> None:
        self._listeners -= 1
        if self._listeners == 0 and self._sub is not None:
            self._idle = asyncio.get_running_loop().call_later(self._linger_s, self._unsubscribe_idle)

    def _unsubscribe_idle(self) -> None:
        self._idle = None
        if self._listeners or self._sub is None:
            return
        sub, self._sub = self._sub, None
        task = asyncio.create_task(self._unsubscribe(sub))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    @staticmethod
    async def _unsubscribe(sub: Subscription) -> None:
        try:
            await sub.unsubscribe()
        except Exception as exc:  # the connection is closing: the subscription goes with it
            log.warning("order_waiters_unsubscribe_failed", error=repr(exc))

    async def _on_event(self, msg: Msg) -> None:
        headers = msg.headers
        if headers is not None:
            order_id = headers.get(ORDER_ID)
            if order_id is not None and order_id not in self._waiting:
                return
        try:
            envelope = Envelope.from_bytes(msg.data)
            snapshot = OrderSnapshot.model_validate(envelope.data)
        except pydantic.ValidationError:
            return
        if snapshot.status is OrderStatus.PENDING:
            return
        waiting = self._waiting.get(snapshot.order_id)
        if not waiting:
            return
        changed = OrderChanged(OrderState(**snapshot.model_dump()), at=envelope.occurred_at)
        for fut in waiting:
            if not fut.done():
                fut.set_result(changed)
