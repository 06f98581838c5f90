"""Order rules: the state machine and the reservation maths. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Status = Literal["pending", "reserved", "served", "cancelled", "expired", "failed"]
TERMINAL: frozenset[str] = frozenset({"served", "cancelled", "expired", "failed"})

# Which status may follow which; anything else is a conflict.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "pending": frozenset({"reserved", "cancelled", "failed"}),
    "reserved": frozenset({"served", "cancelled", "expired"}),
}

MAX_QUANTITY = 100


class KitchenError(Exception):
    """Base of the kitchen's domain errors (mapped to HTTP in one place)."""


class UnknownDish(KitchenError):
    def __init__(self, dish_id: str) -> None:
        super().__init__(f"no dish with id {dish_id!r}")
        self.dish_id = dish_id


class UnknownOrder(KitchenError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order with id {order_id!r}")
        self.order_id = order_id


class InvalidTransition(KitchenError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an order that is {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


def check_transition(current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(current, wanted)


def requirements(recipe: Mapping[str, int], quantity: int) -> dict[str, int]:
    """Units of each ingredient an order of `quantity` dishes needs."""
    return {ingredient: per_dish * quantity for ingredient, per_dish in recipe.items()}


@dataclass(frozen=True)
class Allocation:
    """How one ingredient of an order is covered: `take` from the pantry now, `short` to request."""

    ingredient: str
    needed: int
    take: int

    @property
    def short(self) -> int:
        return self.needed - self.take


def allocate(needed: int, on_hand: int, reserved: int, ingredient: str = "") -> Allocation:
    """Reserve what is available (on hand minus already reserved), never more than needed."""
    available = max(on_hand - reserved, 0)
    return Allocation(ingredient, needed, min(needed, available))
