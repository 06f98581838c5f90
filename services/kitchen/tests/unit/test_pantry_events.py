"""Every change of the pantry reaches its readers as an event carrying the balances after it and the
row's version: holds (placing an order) and releases (cancel, expiry, failed supply) as one
`PantryHeld` per order change, movements (delivery with its partial hold, consumption) as
`PantryMoved`. A reader that applies them by version ends with the pantry itself."""

from __future__ import annotations

from brigade_common.testing.fakes import FakeClock
from brigade_kitchen.domain.events import Held, PantryHeld, PantryMoved
from brigade_kitchen.domain.model import Balance
from brigade_kitchen.service import commands as c
from brigade_kitchen.service import handlers
from services.kitchen.tests.unit.fakes import KitchenState, deps
from services.kitchen.tests.unit.test_handlers import paid, place, requests, uow


def held(state: KitchenState) -> list[PantryHeld]:
    return [e for e in state.events(PantryHeld) if isinstance(e, PantryHeld)]


def followed(state: KitchenState, loaded: dict[str, Balance] | None = None) -> dict[str, Balance]:
    """The pantry as a reader keeps it: what it loaded, then each event's balances over an older version."""
    rows = dict(loaded or {})

    def apply(b: Balance) -> None:
        if b.ingredient not in rows or rows[b.ingredient].version < b.version:
            rows[b.ingredient] = b

    for event in state.events():
        if isinstance(event, PantryHeld):
            for h in event.balances:
                apply(Balance(h.ingredient, h.on_hand, h.reserved, h.version))
        elif isinstance(event, PantryMoved):
            apply(Balance(event.ingredient, event.on_hand, event.reserved, event.version))
    return rows


def pantry(state: KitchenState, *names: str) -> dict[str, Balance]:
    return {n: state.balance(n) for n in names}


async def test_placing_an_order_sends_one_hold_event_with_each_balance_and_version_after() -> None:
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps()
    order_id = await place(state, d)
    assert held(state) == [PantryHeld(order_id, (Held("lechuga", 5, 10, 5, 1), Held("pollo", 2, 2, 2, 1)))]
    second = await place(state, d)  # holds the rest of the lechuga; the pollo is gone
    assert held(state)[1] == PantryHeld(second, (Held("lechuga", 5, 10, 10, 2),))
    assert followed(state) == pantry(state, "lechuga", "pollo")


async def test_an_order_the_pantry_cannot_help_holds_nothing_and_sends_no_hold_event() -> None:
    state, d = KitchenState.seeded({"lechuga": 0, "pollo": 0}), deps()
    await place(state, d)
    assert held(state) == []


async def test_a_cancel_releases_in_one_event_and_a_reader_ends_with_the_pantry() -> None:
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps()
    order_id = await place(state, d)
    loaded = pantry(state, "lechuga", "pollo")  # a page loads here, then events arrive (old ones too)
    await handlers.cancel_order(c.CancelOrder(order_id, by="alice", is_staff=False), uow(state), d)
    assert held(state)[-1] == PantryHeld(order_id, (Held("lechuga", -5, 10, 0, 2), Held("pollo", -2, 2, 0, 2)))
    assert followed(state, loaded) == pantry(state, "lechuga", "pollo")
    assert state.balance("lechuga") == Balance("lechuga", 10, 0, 2)


async def test_an_expiry_releases_in_one_event() -> None:
    clock = FakeClock()
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps(clock, payment_window_s=60)
    order_id = await place(state, d)
    clock.advance(61)
    await handlers.expire_order(c.ExpireOrder(order_id), uow(state), d)
    assert held(state)[-1] == PantryHeld(order_id, (Held("lechuga", -5, 10, 0, 2), Held("pollo", -2, 2, 0, 2)))
    assert followed(state) == pantry(state, "lechuga", "pollo")


async def test_a_failed_supply_releases_what_was_held_in_one_event() -> None:
    state, d = KitchenState.seeded(), deps()  # lechuga 4 of 5: one requested
    order_id = await place(state, d)
    [req] = requests(state)
    await handlers.apply_supply_failure(c.ApplySupplyFailure(req.request_id, "market closed"), uow(state), d)
    assert held(state)[-1] == PantryHeld(order_id, (Held("lechuga", -4, 4, 0, 2), Held("pollo", -2, 2, 0, 2)))
    assert followed(state) == pantry(state, "lechuga", "pollo")


async def test_a_delivery_moves_and_holds_in_one_movement_with_its_version() -> None:
    state, d = KitchenState.seeded(), deps()
    await place(state, d)
    [req] = requests(state)
    await handlers.apply_delivery(c.ApplyDelivery(req.request_id, 3), uow(state), d)
    [moved] = [e for e in state.events(PantryMoved) if isinstance(e, PantryMoved)]
    # +3 on hand, +1 held (the one missing unit): the balances and version after both.
    assert (moved.delta, moved.on_hand, moved.reserved, moved.version) == (3, 7, 5, 2)
    assert len(held(state)) == 1  # the hold came with the movement, not as an event of its own
    assert followed(state) == pantry(state, "lechuga", "pollo")


async def test_serving_consumes_in_movements_whose_versions_follow_the_holds() -> None:
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps()
    order_id = await place(state, d)
    await handlers.serve_paid_order(paid(state, order_id), uow(state), d)
    moves = [
        (e.ingredient, e.on_hand, e.reserved, e.version)
        for e in state.events(PantryMoved)
        if isinstance(e, PantryMoved)
    ]
    assert moves == [("lechuga", 5, 0, 2), ("pollo", 0, 0, 2)]
    assert len(held(state)) == 1
    assert followed(state) == pantry(state, "lechuga", "pollo")


async def test_events_in_any_order_leave_a_reader_with_the_newest_balances() -> None:
    state, d = KitchenState.seeded({"lechuga": 10, "pollo": 2}), deps()
    first = await place(state, d)
    await handlers.cancel_order(c.CancelOrder(first, by="alice", is_staff=False), uow(state), d)
    await place(state, d)
    state.published.reverse()  # the newest first: the older ones must change nothing
    assert followed(state) == pantry(state, "lechuga", "pollo")
