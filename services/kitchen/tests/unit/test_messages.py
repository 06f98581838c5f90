"""Every kitchen event becomes a message its contract accepts (the mapping builds them unvalidated)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from brigade_common.messaging import MessageContext
from brigade_contracts import CATALOG
from brigade_contracts.kitchen import OrderStatus, PantryReason, StepKind
from brigade_kitchen.adapters.messages import SCHEDULE, SCHEDULE_TARGET, outgoing
from brigade_kitchen.domain.dishes import DishChange, DishChanged
from brigade_kitchen.domain.events import (
    Event,
    ExpiryScheduled,
    Held,
    OrderChanged,
    OrderState,
    PantryHeld,
    PantryMoved,
    PaymentRefused,
    StepTaken,
    SupplyRequested,
)
from brigade_kitchen.domain.model import Dish

AT = datetime(2026, 12, 1, 12, 15, tzinfo=UTC)
ORDER = OrderState(
    "6f1c0000-0000-4000-8000-000000000001", "alice", "pan-simple", "Pan simple", 2, 900, OrderStatus.RESERVED, 2, AT
)
EVENTS: list[Event] = [
    OrderChanged(ORDER),
    OrderChanged(OrderState(**{**vars(ORDER), "status": OrderStatus.PENDING, "version": 1, "expires_at": None})),
    SupplyRequested("6f1c0000-0000-4000-8000-000000000002", ORDER.order_id, "lechuga", 3),
    ExpiryScheduled(ORDER.order_id, AT),
    PantryMoved(7, "lechuga", 3, PantryReason.DELIVERY, 7, 5, ORDER.order_id, 12, AT),
    PantryHeld(ORDER.order_id, (Held("lechuga", -2, 7, 3, 13), Held("pollo", -1, 2, 0, 4))),
    PaymentRefused("pay-1", ORDER.order_id, "alice", 900, OrderStatus.EXPIRED, "the order was expired"),
    StepTaken(ORDER.order_id, "alice", "purchase:7", StepKind.PURCHASED, "lechuga", 3, "Mercado Central", AT),
    *(
        DishChanged(change, Dish("pan-simple", "Pan simple", "Pan.", None, 450, 2, {"pan_canilla": 1}))
        for change in DishChange
    ),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_each_event_is_a_valid_message_of_its_contract(event: Event) -> None:
    message = outgoing(event)
    model, _ = CATALOG[message.type]
    wire = message.payload.model_dump(mode="json")
    assert model.model_validate(wire).model_dump(mode="json") == wire


def test_the_order_event_follows_the_status_and_the_expiry_is_a_schedule() -> None:
    assert outgoing(EVENTS[0]).type == "kitchen.order.reserved.v1"
    assert outgoing(EVENTS[1]).type == "kitchen.order.placed.v1"
    schedule = outgoing(EVENTS[3])
    assert schedule.subject == f"kitchen.schedule.order_expiry.{ORDER.order_id}"
    assert schedule.headers == {SCHEDULE: "@at 2026-12-01T12:15:00Z", SCHEDULE_TARGET: "kitchen.order.expiry_due.v1"}


def test_a_journey_step_is_its_own_event_and_every_step_keeps_its_time_on_the_envelope() -> None:
    step = outgoing(next(e for e in EVENTS if isinstance(e, StepTaken)))
    assert step.type == "kitchen.journey.step.v1"  # not kitchen.order.*: those carry order snapshots
    assert step.payload.model_dump(mode="json")["key"] == "purchase:7"
    assert step.envelope(MessageContext("c")).occurred_at == AT
    stamped = OrderChanged(ORDER, at=AT)
    assert outgoing(stamped).envelope(MessageContext("c")).occurred_at == AT


def test_each_dish_change_is_its_own_event_with_the_version() -> None:
    sent = [outgoing(e) for e in EVENTS if isinstance(e, DishChanged)]
    assert [m.type for m in sent] == ["kitchen.dish.created.v1", "kitchen.dish.updated.v1", "kitchen.dish.retired.v1"]
    assert {m.payload.model_dump()["version"] for m in sent} == {2}
