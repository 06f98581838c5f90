"""The kitchen's events as the messages other services read: the wire contracts, mapped here only."""

from __future__ import annotations

from datetime import UTC

from brigade_common.messaging import Outgoing
from brigade_contracts import kitchen as k
from brigade_contracts import warehouse as w
from brigade_kitchen.domain.dishes import DishChange, DishChanged
from brigade_kitchen.domain.events import (
    Event,
    ExpiryScheduled,
    OrderChanged,
    PantryHeld,
    PantryMoved,
    PaymentRefused,
    StepTaken,
    SupplyRequested,
)

DISH_EVENT_TYPES = {
    DishChange.CREATED: k.DISH_CREATED,
    DishChange.UPDATED: k.DISH_UPDATED,
    DishChange.RETIRED: k.DISH_RETIRED,
}
SCHEDULE = "Nats-Schedule"
SCHEDULE_TARGET = "Nats-Schedule-Target"
# On every order event: the order's id, so a reader looking for a few orders (the waiters) passes
# over the others without parsing them. The payload stays the whole truth.
ORDER_ID = "Brigade-Order-Id"


def outgoing(event: Event) -> Outgoing:
    """The message `event` becomes (the events are flat dataclasses: `vars` is their fields).

    Built with `model_construct`: the model's types already hold for these fields (the tests of this
    module validate every mapping against its contract), and this runs for every message sent.
    """
    match event:
        case OrderChanged(order=state, at=when):
            # The event's time is its journey step's (the same on the page loaded and the one live).
            return Outgoing(
                k.ORDER_EVENT_TYPES[state.status],
                k.OrderSnapshot.model_construct(**vars(state)),
                headers={ORDER_ID: state.order_id},
                occurred_at=when,
            )
        case StepTaken():
            return Outgoing(k.JOURNEY_STEP, k.JourneyStep.model_construct(**vars(event)), occurred_at=event.at)
        case SupplyRequested():
            return Outgoing(w.SUPPLY_CMD, w.SupplyIngredient.model_construct(**vars(event)))
        case ExpiryScheduled(order_id=order_id, expires_at=expires_at):
            # A JetStream scheduled message: the server publishes the payload on the target subject
            # at that time. One schedule subject per order, so a re-sent schedule replaces the first.
            at = expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return Outgoing(
                k.ORDER_EXPIRY_DUE,
                k.OrderExpiryDue.model_construct(order_id=order_id, expires_at=expires_at),
                subject=k.expiry_schedule_subject(order_id),
                headers={SCHEDULE: f"@at {at}", SCHEDULE_TARGET: k.ORDER_EXPIRY_DUE},
            )
        case PantryMoved():
            return Outgoing(k.PANTRY_MOVED, k.PantryMoved.model_construct(**vars(event)))
        case PantryHeld(order_id=order_id, balances=balances):
            held = [k.HeldBalance.model_construct(**vars(b)) for b in balances]
            return Outgoing(k.PANTRY_HELD, k.PantryHeld.model_construct(order_id=order_id, balances=held))
        case DishChanged(change=change, dish=d):
            snapshot = k.DishSnapshot.model_construct(
                dish_id=d.id,
                name=d.name,
                description=d.description,
                price_cents=d.price_cents,
                version=d.version,
                ingredients=dict(d.recipe),
            )
            return Outgoing(DISH_EVENT_TYPES[change], snapshot)
        case PaymentRefused():
            return Outgoing(k.PAYMENT_REFUSED, k.PaymentRefused.model_construct(**vars(event)))
    raise TypeError(f"no message for {type(event).__name__}")
