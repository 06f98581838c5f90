"""An order's journey as the use cases record it: each change of state and each step of its supply,
once, with its time, in the order it happened. Against the fakes: no servers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_kitchen.domain.errors import UnknownOrder
from brigade_kitchen.domain.events import SupplyRequested
from brigade_kitchen.service import commands as c
from brigade_kitchen.service import handlers, queries
from brigade_kitchen.service.handlers import Deps
from services.kitchen.tests.unit.fake_views import FakeViews
from services.kitchen.tests.unit.fakes import FakeClock, FakeUnitOfWork, KitchenState, deps

CTX = MessageContext("corr-1")


def uow(state: KitchenState, inbox: InboxEntry | None = None) -> FakeUnitOfWork:
    return FakeUnitOfWork(state, CTX, inbox)


def setup() -> tuple[KitchenState, Deps, FakeClock]:
    clock = FakeClock()
    state = KitchenState.seeded()  # seed 000: lechuga 4 (Ensalada Cesar needs 5), pollo 2
    state.clock = clock
    return state, deps(clock), clock


async def place_short(state: KitchenState, d: Deps) -> tuple[str, str]:
    placed = await handlers.place_order(c.PlaceOrder(d.new_id(), "alice", "ensalada-cesar", 1), uow(state), d)
    [req] = [e for e in state.events(SupplyRequested) if isinstance(e, SupplyRequested)]
    return placed.order_id, req.request_id


def steps(state: KitchenState, order_id: str) -> list[tuple[str, str, str | None, int | None, str | None]]:
    return [(s.key.split(":")[0], s.kind, s.ingredient, s.amount, s.detail) for s in state.journey(order_id)]


async def test_a_short_order_goes_requested_bought_delivered_reserved_served_with_its_times() -> None:
    state, d, clock = setup()
    order_id, request_id = await place_short(state, d)
    placed_at = clock()
    clock.advance(1)
    bought_at = clock() - timedelta(seconds=0.5)  # the warehouse's time, before the kitchen hears of it
    await handlers.record_purchase(c.RecordPurchase(7, request_id, 1, "Mercado Central", bought_at), uow(state), d)
    clock.advance(1)
    await handlers.apply_delivery(c.ApplyDelivery(request_id, 1), uow(state), d)
    delivered_at = clock()
    clock.advance(1)
    order = state.orders[order_id]
    await handlers.serve_paid_order(c.ServePaidOrder(order_id, "pay-1", "alice", order.total_cents), uow(state), d)

    assert steps(state, order_id) == [
        ("v1", "pending", None, None, None),
        ("requested", "requested", "lechuga", 1, None),
        ("purchase", "purchased", "lechuga", 1, "Mercado Central"),
        ("delivered", "delivered", "lechuga", 1, None),
        ("v2", "reserved", None, None, None),
        ("v3", "served", None, None, None),
    ]
    times = [s.at for s in state.journey(order_id)]
    assert times == [placed_at, placed_at, bought_at, delivered_at, delivered_at, clock()]
    keys = [s.key for s in state.journey(order_id)]
    assert keys[1] == f"requested:{request_id}" and keys[2] == "purchase:7" and keys[3] == f"delivered:{request_id}"


async def test_a_purchase_or_delivery_seen_twice_adds_no_second_step() -> None:
    state, d, clock = setup()
    order_id, request_id = await place_short(state, d)
    bought = c.RecordPurchase(7, request_id, 1, "Mercado Central", clock())
    await handlers.record_purchase(bought, uow(state), d)
    await handlers.record_purchase(bought, uow(state), d)  # another envelope of the same purchase
    await handlers.apply_delivery(c.ApplyDelivery(request_id, 1), uow(state), d)
    await handlers.apply_delivery(c.ApplyDelivery(request_id, 1), uow(state), d)
    kinds = [s.kind for s in state.journey(order_id)]
    assert kinds == ["pending", "requested", "purchased", "delivered", "reserved"]


async def test_a_purchase_for_a_request_the_kitchen_never_made_is_ignored_and_acknowledged() -> None:
    state, d, clock = setup()
    inbox = InboxEntry("kitchen-purchases", "m-1")
    unknown = "6f1c0000-0000-4000-8000-00000000dead"
    await handlers.record_purchase(c.RecordPurchase(9, unknown, 3, "Mercado Central", clock()), uow(state, inbox), d)
    assert state.steps == {} and state.published == []
    assert inbox in state.inbox  # committed: the message is not redelivered, nor dead-lettered


async def test_a_failed_supply_says_which_ingredient_and_why_then_the_order_failed() -> None:
    state, d, _ = setup()
    order_id, request_id = await place_short(state, d)
    await handlers.apply_supply_failure(c.ApplySupplyFailure(request_id, "market down"), uow(state), d)
    assert steps(state, order_id)[2:] == [
        ("supply_failed", "supply_failed", "lechuga", 1, "market down"),
        ("v2", "failed", None, None, "could not get 1 lechuga: market down"),
    ]


async def test_a_delivery_after_the_order_stopped_waiting_says_it_only_stocked_the_pantry() -> None:
    state, d, _ = setup()
    order_id, request_id = await place_short(state, d)
    await handlers.cancel_order(c.CancelOrder(order_id, "alice", is_staff=False), uow(state), d)
    await handlers.apply_delivery(c.ApplyDelivery(request_id, 1), uow(state), d)
    assert steps(state, order_id)[-1] == (
        "delivered",
        "delivered",
        "lechuga",
        1,
        "the order was cancelled: it only stocked the pantry",
    )


async def test_the_journey_is_the_owners_and_staffs_and_nobody_elses() -> None:
    state, d, _ = setup()
    order_id, _ = await place_short(state, d)
    views = FakeViews(state)
    mine = await queries.visible_journey(views, order_id, viewer="alice", is_staff=False)
    assert [s.kind for s in mine] == ["pending", "requested"]
    assert await queries.visible_journey(views, order_id, viewer="bob", is_staff=True) == mine
    with pytest.raises(UnknownOrder):
        await queries.visible_journey(views, order_id, viewer="bob", is_staff=False)
