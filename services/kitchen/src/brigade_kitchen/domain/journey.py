"""An order's journey: every change of its state and every step of its supply, each once, with its
time. The model records them as events (`OrderChanged`, `StepTaken`); stored, each becomes a step
keyed so that the same step seen twice is one (a state step by the version it made)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from brigade_contracts.kitchen import StepKind
from brigade_kitchen.domain.events import Event, OrderChanged, StepTaken


@dataclass(frozen=True)
class Step:
    """One step of an order's journey. `kind` is the state the order entered (an `OrderStatus`
    value) or what happened to its supply (a `StepKind` value)."""

    order_id: str
    key: str
    kind: str
    at: datetime
    ingredient: str | None = None
    amount: int | None = None
    detail: str | None = None


def state_key(version: int) -> str:
    return f"v{version}"


def requested_key(request_id: str) -> str:
    return f"requested:{request_id}"


def delivered_key(request_id: str) -> str:
    return f"delivered:{request_id}"


def supply_failed_key(request_id: str) -> str:
    return f"supply_failed:{request_id}"


def purchase_key(purchase_id: int | str) -> str:
    return f"purchase:{purchase_id}"


def stamped(event: Event, at: datetime) -> Event:
    """`event` with its time when it is a journey step whose time is not known yet."""
    if isinstance(event, OrderChanged | StepTaken) and event.at is None:
        return dataclasses.replace(event, at=at)
    return event


def step_of(event: Event) -> Step | None:
    """The journey step a (stamped) event is, or None when it is not one."""
    match event:
        case OrderChanged(order=state, at=at) if at is not None:
            return Step(state.order_id, state_key(state.version), state.status.value, at, detail=state.reason)
        case StepTaken(at=at) if at is not None:
            return Step(
                event.order_id, event.key, StepKind(event.kind).value, at, event.ingredient, event.amount, event.detail
            )
    return None
