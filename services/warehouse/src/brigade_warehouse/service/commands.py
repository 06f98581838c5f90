"""What the warehouse is asked to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SupplyIngredient:
    """Deliver `amount` of `ingredient` to the kitchen for `order_id`; `request_id` makes it idempotent."""

    request_id: str
    order_id: str
    ingredient: str
    amount: int
