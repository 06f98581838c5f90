"""The kitchen's use cases against in-memory fakes: what each does to orders, the pantry and the
messages it sends, and that repeats change nothing. No servers."""

from __future__ import annotations

import pytest

from brigade_common.idempotency import IdempotencyKey, IdempotencyKeyReused
from brigade_common.messaging import AlreadyProcessed, InboxEntry, MessageContext
from brigade_contracts.kitchen import OrderStatus, PantryReason
from brigade_kitchen.domain.errors import ExpiryNotDue, InvalidTransition, UnknownDish, UnknownOrder
from brigade_kitchen.domain.events import (
    ExpiryScheduled,
    OrderChanged,
    PantryHeld,
    PantryMoved,
    PaymentRefused,
    StepTaken,
    SupplyRequested,
)
from brigade_kitchen.service import commands as c
from brigade_kitchen.service import handlers
from brigade_kitchen.service.handlers import Deps
from services.kitchen.tests.unit.fakes import FakeClock, FakeUnitOfWork, KitchenState, deps

CTX = MessageContext("corr-1")


def uow(state: KitchenState, inbox: InboxEntry | None = None) -> FakeUnitOfWork:
    return FakeUnitOfWork(state, CTX, inbox)


async def place(state: KitchenState, d: Deps, dish: str = "ensalada-cesar", quantity: int = 1, **kw: object) -> str:
    placed = await handlers.place_order(c.PlaceOrder(d.new_id(), "alice", dish, quantity, **kw), uow(state), d)  # type: ignore[arg-type]
    return placed.order_id


def status(state: KitchenState, order_id: str) -> OrderStatus:
    return state.orders[order_id].status


def requests(state: KitchenState) -> list[SupplyRequested]:
    return [e for e in state.events(SupplyRequested) if isinstance(e, SupplyRequested)]


async def test_an_order_the_pantry_covers_is_reserved_in_its_own_transaction() -> None:
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps()
    order_id = await place(state, d)
    assert status(state, order_id) is OrderStatus.RESERVED
    assert state.balance("lechuga").reserved == 5 and state.balance("pollo").reserved == 2
    kinds = [type(e).__name__ for e in state.events()]
    assert kinds == ["OrderChanged", "OrderChanged", "ExpiryScheduled", "PantryHeld"]
    assert all(p.context == CTX for p in state.published)
    assert state.commits == 1


async def test_a_short_pantry_holds_what_it_has_and_asks_the_warehouse_for_the_rest() -> None:
    state, d = KitchenState.seeded(), deps()  # seed 000: lechuga 4, pollo 2
    order_id = await place(state, d)
    assert status(state, order_id) is OrderStatus.PENDING
    assert state.balance("lechuga").reserved == 4 and state.balance("pollo").reserved == 2
    assert [(r.ingredient, r.amount, r.order_id) for r in requests(state)] == [("lechuga", 1, order_id)]


async def test_an_unknown_dish_is_refused_and_nothing_is_written() -> None:
    state, d = KitchenState.seeded(), deps()
    with pytest.raises(UnknownDish):
        await place(state, d, dish="no-such-dish")
    assert state.orders == {} and state.published == [] and state.commits == 0


async def test_the_delivery_that_covers_the_order_reserves_it_and_stocks_the_pantry() -> None:
    state, d = KitchenState.seeded(), deps()
    order_id = await place(state, d)
    [req] = requests(state)
    await handlers.apply_delivery(c.ApplyDelivery(req.request_id, 3), uow(state), d)
    assert status(state, order_id) is OrderStatus.RESERVED
    assert state.balance("lechuga").on_hand == 7 and state.balance("lechuga").reserved == 5
    [moved] = [e for e in state.events(PantryMoved) if isinstance(e, PantryMoved)]
    assert (moved.ingredient, moved.delta, moved.reason, moved.on_hand, moved.reserved) == (
        "lechuga",
        3,
        PantryReason.DELIVERY,
        7,
        5,
    )
    assert state.events(ExpiryScheduled)


async def test_a_second_delivery_for_the_same_request_changes_nothing() -> None:
    state, d = KitchenState.seeded(), deps()
    await place(state, d)
    [req] = requests(state)
    await handlers.apply_delivery(c.ApplyDelivery(req.request_id, 1), uow(state), d)
    before = (state.balance("lechuga"), len(state.published))
    await handlers.apply_delivery(c.ApplyDelivery(req.request_id, 1), uow(state), d)
    assert (state.balance("lechuga"), len(state.published)) == before


async def test_a_redelivered_message_is_recognised_by_the_inbox() -> None:
    state, d = KitchenState.seeded(), deps()
    await place(state, d)
    [req] = requests(state)
    entry = InboxEntry("kitchen-supply", "msg-1")
    await handlers.apply_delivery(c.ApplyDelivery(req.request_id, 1), uow(state, entry), d)
    with pytest.raises(AlreadyProcessed):
        await handlers.apply_delivery(c.ApplyDelivery(req.request_id, 1), uow(state, entry), d)


async def test_a_failed_supply_fails_the_order_and_gives_its_holds_back() -> None:
    state, d = KitchenState.seeded(), deps()
    order_id = await place(state, d)
    [req] = requests(state)
    await handlers.apply_supply_failure(c.ApplySupplyFailure(req.request_id, "market closed"), uow(state), d)
    assert status(state, order_id) is OrderStatus.FAILED
    assert state.balance("lechuga").reserved == 0 and state.balance("pollo").reserved == 0
    assert state.balance("lechuga").on_hand == 4  # the ingredients stay in the pantry


def paid(state: KitchenState, order_id: str, payment_id: str = "pay-1") -> c.ServePaidOrder:
    """The order's payment, in full, by its customer."""
    order = state.orders[order_id]
    return c.ServePaidOrder(order_id, payment_id, order.customer_id, order.total_cents)


async def test_payment_consumes_the_holds_and_serves_and_a_repeat_does_nothing() -> None:
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps()
    order_id = await place(state, d)
    await handlers.serve_paid_order(paid(state, order_id), uow(state), d)
    assert status(state, order_id) is OrderStatus.SERVED
    assert state.balance("lechuga").on_hand == 5 and state.balance("lechuga").reserved == 0
    assert state.balance("pollo").on_hand == 0
    consumed = [(e.ingredient, e.delta) for e in state.events(PantryMoved) if isinstance(e, PantryMoved)]
    assert consumed == [("lechuga", -5), ("pollo", -2)]
    published = len(state.published)
    await handlers.serve_paid_order(paid(state, order_id), uow(state), d)
    assert len(state.published) == published


async def test_a_payment_for_an_order_no_longer_held_is_refused_through_the_outbox() -> None:
    """The expiry/payment race: the order expired first, so the payment is refused (and refunded),
    nothing is consumed, and the refusal is a message of the transaction that decided it."""
    clock = FakeClock()
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps(clock, payment_window_s=60)
    order_id = await place(state, d)
    clock.advance(61)
    await handlers.expire_order(c.ExpireOrder(order_id), uow(state), d)
    commits = state.commits
    await handlers.serve_paid_order(paid(state, order_id), uow(state), d)
    assert status(state, order_id) is OrderStatus.EXPIRED
    assert state.balance("lechuga").on_hand == 10 and state.balance("lechuga").reserved == 0
    [refused] = [e for e in state.events(PaymentRefused) if isinstance(e, PaymentRefused)]
    assert (refused.payment_id, refused.order_id, refused.order_status) == ("pay-1", order_id, OrderStatus.EXPIRED)
    assert refused.amount_cents == state.orders[order_id].total_cents
    assert state.commits == commits + 1


async def test_a_second_payment_for_a_served_order_is_refused_the_first_again_is_not() -> None:
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps()
    order_id = await place(state, d)
    await handlers.serve_paid_order(paid(state, order_id), uow(state), d)
    await handlers.serve_paid_order(paid(state, order_id), uow(state), d)
    await handlers.serve_paid_order(paid(state, order_id, "pay-2"), uow(state), d)
    refused = [e.payment_id for e in state.events(PaymentRefused) if isinstance(e, PaymentRefused)]
    assert refused == ["pay-2"]
    assert state.balance("lechuga").on_hand == 5


async def test_a_payment_for_an_unknown_order_is_refused() -> None:
    with pytest.raises(UnknownOrder):
        await handlers.serve_paid_order(
            c.ServePaidOrder("nope", "pay-1", "alice", 850), uow(KitchenState.seeded()), deps()
        )


async def test_expiry_before_the_deadline_is_not_due_and_after_it_releases() -> None:
    clock = FakeClock()
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps(clock, payment_window_s=60)
    order_id = await place(state, d)
    with pytest.raises(ExpiryNotDue):
        await handlers.expire_order(c.ExpireOrder(order_id), uow(state), d)
    assert status(state, order_id) is OrderStatus.RESERVED
    clock.advance(61)
    await handlers.expire_order(c.ExpireOrder(order_id), uow(state), d)
    assert status(state, order_id) is OrderStatus.EXPIRED
    assert state.balance("lechuga").reserved == 0 and state.balance("lechuga").on_hand == 10
    await handlers.expire_order(c.ExpireOrder(order_id), uow(state), d)  # a repeat: nothing to do
    assert status(state, order_id) is OrderStatus.EXPIRED


async def test_an_expiry_after_payment_changes_nothing() -> None:
    clock = FakeClock()
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps(clock)
    order_id = await place(state, d)
    await handlers.serve_paid_order(paid(state, order_id), uow(state), d)
    clock.advance(3600)
    await handlers.expire_order(c.ExpireOrder(order_id), uow(state), d)
    assert status(state, order_id) is OrderStatus.SERVED


async def test_cancel_releases_and_only_the_owner_or_staff_may_cancel() -> None:
    clock = FakeClock()
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps(clock)
    state.clock = clock
    placed_at = clock()
    order_id = await place(state, d)
    with pytest.raises(UnknownOrder):
        await handlers.cancel_order(c.CancelOrder(order_id, by="mallory", is_staff=False), uow(state), d)
    clock.advance(60)
    cancelled = await handlers.cancel_order(c.CancelOrder(order_id, by="bob", is_staff=True), uow(state), d)
    assert cancelled.order.status is OrderStatus.CANCELLED and cancelled.order.reason == "cancelled by bob"
    # The answer says when it was placed and when it was cancelled: the times the commits stamped.
    assert (cancelled.created_at, cancelled.updated_at) == (placed_at, clock())
    assert state.balance("lechuga").reserved == 0
    clock.advance(60)
    again = await handlers.cancel_order(c.CancelOrder(order_id, by="alice", is_staff=False), uow(state), d)
    assert again == cancelled  # twice is harmless: not even its time changes


async def test_a_served_order_cannot_be_cancelled() -> None:
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps()
    order_id = await place(state, d)
    await handlers.serve_paid_order(paid(state, order_id), uow(state), d)
    with pytest.raises(InvalidTransition):
        await handlers.cancel_order(c.CancelOrder(order_id, by="alice", is_staff=False), uow(state), d)


def key(body: str = "b1") -> IdempotencyKey:
    return IdempotencyKey("alice", "k-1", "POST", "/api/kitchen/orders", body)


async def test_the_same_idempotency_key_places_one_order_and_replays_it() -> None:
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps()
    first = await handlers.place_order(c.PlaceOrder("o-1", "alice", "ensalada-cesar", 1, key()), uow(state), d)
    again = await handlers.place_order(c.PlaceOrder("o-2", "alice", "ensalada-cesar", 1, key()), uow(state), d)
    assert (first.replayed, again.replayed, again.order_id) == (False, True, "o-1")
    assert list(state.orders) == ["o-1"] and state.balance("lechuga").reserved == 5
    with pytest.raises(IdempotencyKeyReused):
        await handlers.place_order(c.PlaceOrder("o-3", "alice", "pan-simple", 1, key("b2")), uow(state), d)


async def test_orders_never_hold_more_than_the_pantry_has() -> None:
    state, d = KitchenState.seeded({"lechuga": 12, "pollo": 6}), deps()
    ids = [await place(state, d) for _ in range(3)]
    assert [status(state, i) for i in ids] == [OrderStatus.RESERVED, OrderStatus.RESERVED, OrderStatus.PENDING]
    assert state.balance("lechuga").reserved == 12
    assert [(r.ingredient, r.amount) for r in requests(state)] == [("lechuga", 3)]
    assert all(
        isinstance(e, OrderChanged | ExpiryScheduled | SupplyRequested | PantryHeld | StepTaken) for e in state.events()
    )
