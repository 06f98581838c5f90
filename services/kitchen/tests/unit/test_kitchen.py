"""Placing an order the way a customer waits for it: the wait, the timeout, the replay. No servers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from brigade_common.idempotency import IdempotencyKey
from brigade_common.messaging import InboxEntry, MessageContext
from brigade_contracts.kitchen import OrderStatus
from brigade_kitchen.domain.errors import DishVersionChanged, UnknownDish
from brigade_kitchen.domain.events import OrderChanged, OrderState, order_of
from brigade_kitchen.domain.model import Dish
from brigade_kitchen.service import commands as c
from brigade_kitchen.service.kitchen import Kitchen
from services.kitchen.tests.unit.fake_views import FakeViews
from services.kitchen.tests.unit.fake_waiters import FakeWaiters
from services.kitchen.tests.unit.fakes import FakeClock, FakeUnitOfWork, KitchenState, deps

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
    state, placed_at = KitchenState.seeded(), datetime(2026, 12, 3, 12, tzinfo=UTC)
    state.clock = lambda: placed_at
    reserved_at = placed_at + timedelta(milliseconds=40)
    waiters = FakeWaiters(outcome=lambda order_id: OrderChanged(settled, at=reserved_at))
    placed = await kitchen(state, waiters).place(c.PlaceOrder("o-1", "alice", "ensalada-cesar", 1), context=CTX)
    assert placed.order == settled
    # When it was placed (its own commit) and when it was reserved (the outcome's event says).
    assert (placed.entry.created_at, placed.entry.updated_at) == (placed_at, reserved_at)


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
    assert again.replayed and again.entry == first.entry
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


def grouping(state: KitchenState, uows: list[FakeUnitOfWork], first: type[FakeUnitOfWork] = FakeUnitOfWork) -> Kitchen:
    """A kitchen of one reservation transaction at a time (orders that come meanwhile go together);
    its first unit of work is a `first`."""

    def uow(context: MessageContext, inbox: InboxEntry | None) -> FakeUnitOfWork:
        uows.append((FakeUnitOfWork if uows else first)(state, context, inbox))
        return uows[-1]

    return Kitchen(
        uow=uow,
        views=FakeViews(state),
        waiters=FakeWaiters(),
        deps=deps(),
        order_wait_s=0,
        max_concurrent_reservations=1,
    )


async def test_orders_placed_at_once_go_in_one_transaction_each_with_its_own_request_and_pantry() -> None:
    """Three orders come together: one transaction places them, one after the other on the pantry as
    the one before left it (lechuga for two of them only), and each order's messages carry the
    correlation id of its own request."""
    state = KitchenState.seeded({"lechuga": 10, "pollo": 6})
    uows: list[FakeUnitOfWork] = []
    k = grouping(state, uows)
    placed = await asyncio.gather(
        *(
            k.place(c.PlaceOrder(f"o-{i}", "alice", "ensalada-cesar", 1), context=MessageContext(f"corr-{i}"))
            for i in (1, 2, 3)
        )
    )
    assert [p.order.status for p in placed] == [OrderStatus.RESERVED, OrderStatus.RESERVED, OrderStatus.PENDING]
    assert [u.taken_together for u in uows] == [[3]] and state.commits == 1
    assert state.pantry["lechuga"] == [10, 10] and state.pantry["pollo"] == [6, 6]
    contexts = {(order_of(p.event), p.context.correlation_id) for p in state.published}
    assert contexts == {("o-1", "corr-1"), ("o-2", "corr-2"), ("o-3", "corr-3")}


async def test_an_order_the_group_cannot_place_gets_its_own_answer_and_the_others_are_placed() -> None:
    """A replayed key, a dish off the menu and a dish at another version than the customer saw are
    placed alone after the group: the replay answers the first order, the others their own error."""
    state = KitchenState.seeded({"lechuga": 10, "pollo": 6})
    uows: list[FakeUnitOfWork] = []
    k = grouping(state, uows)
    key = IdempotencyKey("alice", "k-1", "POST", "/api/kitchen/orders", "fp")
    first = await k.place(c.PlaceOrder("o-1", "alice", "ensalada-cesar", 1, key), context=CTX)
    results = await asyncio.gather(
        k.place(c.PlaceOrder("o-2", "alice", "ensalada-cesar", 1), context=CTX),
        k.place(c.PlaceOrder("o-3", "alice", "ensalada-cesar", 1, key), context=CTX),
        k.place(c.PlaceOrder("o-4", "alice", "no-such-dish", 1), context=CTX),
        k.place(c.PlaceOrder("o-5", "alice", "ensalada-cesar", 1, dish_version=7), context=CTX),
        k.place(c.PlaceOrder("o-6", "alice", "ensalada-cesar", 1), context=CTX),
        return_exceptions=True,
    )
    assert [u.taken_together for u in uows[1:2]] == [[2]]  # o-2 and o-6 together
    assert results[0].order.status is OrderStatus.RESERVED  # type: ignore[union-attr]
    assert results[1].replayed and results[1].order == first.order  # type: ignore[union-attr]
    assert isinstance(results[2], UnknownDish)
    assert isinstance(results[3], DishVersionChanged)
    assert results[4].order.order_id == "o-6"  # type: ignore[union-attr]
    assert sorted(state.orders) == ["o-1", "o-2", "o-6"]


class BrokenGroup(FakeUnitOfWork):
    async def take_orders(self, orders: Sequence[c.PlaceOrder]) -> list[Dish | None]:
        raise ConnectionResetError("the connection broke")


async def test_when_the_groups_transaction_fails_each_order_is_placed_alone() -> None:
    state = KitchenState.seeded({"lechuga": 10, "pollo": 6})
    uows: list[FakeUnitOfWork] = []
    k = grouping(state, uows, first=BrokenGroup)
    placed = await asyncio.gather(
        *(k.place(c.PlaceOrder(f"o-{i}", "alice", "ensalada-cesar", 1), context=CTX) for i in (1, 2))
    )
    assert [p.order.status for p in placed] == [OrderStatus.RESERVED, OrderStatus.RESERVED]
    assert isinstance(uows[0], BrokenGroup) and not uows[0].committed
    assert state.commits == 2  # one transaction each, after the group's failed
