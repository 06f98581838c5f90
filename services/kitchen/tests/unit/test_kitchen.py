"""Placing an order the way a customer waits for it: the wait, the timeout, the replay. No servers."""

from __future__ import annotations

import asyncio

from brigade_common.idempotency import IdempotencyKey
from brigade_common.messaging import InboxEntry, MessageContext
from brigade_contracts.kitchen import OrderStatus
from brigade_kitchen.domain.events import OrderState
from brigade_kitchen.service import commands as c
from brigade_kitchen.service.kitchen import Kitchen
from services.kitchen.tests.unit.fakes import FakeClock, FakeUnitOfWork, FakeViews, FakeWaiters, KitchenState, deps

CTX = MessageContext("corr-1")


def kitchen(state: KitchenState, waiters: FakeWaiters, wait_s: float = 5.0) -> Kitchen:
    def uow(context: MessageContext, inbox: InboxEntry | None) -> FakeUnitOfWork:
        return FakeUnitOfWork(state, context, inbox)

    return Kitchen(uow=uow, views=FakeViews(state), waiters=waiters, deps=deps(), order_wait_s=wait_s)


async def test_an_order_covered_by_the_pantry_answers_at_once_without_waiting() -> None:
    waiters = FakeWaiters()
    placed = await kitchen(KitchenState.seeded({"lechuga": 10, "pollo": 2}), waiters).place(
        c.PlaceOrder("o-1", "alice", "ensalada-cesar", 1), context=CTX
    )
    assert placed.order.status is OrderStatus.RESERVED and not placed.replayed
    assert waiters.registered == ["o-1"]  # registered before the transaction, all the same


async def test_a_pending_order_gets_the_outcome_even_when_it_comes_before_the_commit() -> None:
    settled = OrderState("o-1", "alice", "ensalada-cesar", "Ensalada Cesar", 1, 850, OrderStatus.RESERVED, 2)
    waiters = FakeWaiters(outcome=lambda order_id: settled)
    placed = await kitchen(KitchenState.seeded(), waiters).place(
        c.PlaceOrder("o-1", "alice", "ensalada-cesar", 1), context=CTX
    )
    assert placed.order == settled


async def test_an_outcome_that_came_while_nobody_listened_is_read_without_waiting_the_wait_out() -> None:
    """When no replica listened at the registration (the waiters listen only while orders wait), an
    outcome can come before the wait starts listening: the order is read once then, and answered."""
    state = KitchenState.seeded()

    def settled_meanwhile(order_id: str) -> None:  # another replica failed the order meanwhile
        state.orders[order_id].status = OrderStatus.FAILED

    placing = kitchen(state, FakeWaiters(missed=settled_meanwhile), wait_s=3600).place(
        c.PlaceOrder("o-1", "alice", "ensalada-cesar", 1), context=CTX
    )
    placed = await asyncio.wait_for(placing, 10)  # not the hour of the order wait
    assert placed.order.status is OrderStatus.FAILED


async def test_past_the_wait_the_order_is_answered_as_it_stands() -> None:
    state = KitchenState.seeded()
    placed = await kitchen(state, FakeWaiters(), wait_s=0).place(
        c.PlaceOrder("o-1", "alice", "ensalada-cesar", 1), context=CTX
    )
    assert placed.order.status is OrderStatus.PENDING


async def test_a_replayed_key_answers_the_first_order_as_it_stands_now() -> None:
    state = KitchenState.seeded({"lechuga": 10, "pollo": 2})
    k = kitchen(state, FakeWaiters())
    key = IdempotencyKey("alice", "k-1", "POST", "/api/kitchen/orders", "fp")
    first = await k.place(c.PlaceOrder("o-1", "alice", "ensalada-cesar", 1, key), context=CTX)
    again = await k.place(c.PlaceOrder("o-2", "alice", "ensalada-cesar", 1, key), context=CTX)
    assert again.replayed and again.order == first.order
    assert list(state.orders) == ["o-1"]


async def test_the_sweep_settles_every_order_past_its_deadline_and_only_those() -> None:
    """The safety net under the scheduled checks: a lost expiry message delays a release by one
    sweep at most."""
    state = KitchenState.seeded({"lechuga": 10, "pollo": 2})
    clock = FakeClock()
    k = Kitchen(
        uow=lambda context, inbox: FakeUnitOfWork(state, context, inbox),
        views=FakeViews(state),
        waiters=FakeWaiters(),
        deps=deps(clock, payment_window_s=60, supply_wait_s=30),
        order_wait_s=0,
    )
    reserved = await k.place(c.PlaceOrder("o-1", "alice", "ensalada-cesar", 1), context=CTX)
    short = await k.place(c.PlaceOrder("o-2", "alice", "ensalada-cesar", 1), context=CTX)  # pantry now short
    assert (reserved.order.status, short.order.status) == (OrderStatus.RESERVED, OrderStatus.PENDING)
    assert await k.settle_overdue() == 0
    clock.advance(31)  # past the pending order's supply deadline only
    assert await k.settle_overdue() == 1
    assert state.orders["o-2"].status is OrderStatus.FAILED
    assert state.orders["o-1"].status is OrderStatus.RESERVED
    clock.advance(30)
    assert await k.settle_overdue() == 1
    assert state.orders["o-1"].status is OrderStatus.EXPIRED
    assert state.balance("lechuga").reserved == 0 and state.balance("pollo").reserved == 0
    assert await k.settle_overdue() == 0
