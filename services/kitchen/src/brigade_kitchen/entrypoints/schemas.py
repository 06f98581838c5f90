"""The kitchen's HTTP models: what its API reads and answers (mapped from the model here only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from brigade_common.inputs import WHOLE
from brigade_common.pagination import TimePageQuery
from brigade_contracts.kitchen import OrderStatus, PantryReason
from brigade_kitchen.domain.journey import Step
from brigade_kitchen.domain.model import MAX_QUANTITY, Balance, Dish
from brigade_kitchen.service.ports import Movement, OrderEntry

DISH_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"

DishId = Annotated[str, Field(pattern=DISH_ID, description="A dish's id: lowercase letters, digits and dashes")]


class DishPath(BaseModel):
    dish_id: DishId


def etag(version: int) -> str:
    """A dish's strong ETag: its version, which reads send and writes name in If-Match."""
    return f'"{version}"'


class DishOut(BaseModel):
    id: str
    name: str
    description: str
    image_url: str | None
    price_cents: int = Field(gt=0)
    version: int = Field(ge=1)
    ingredients: dict[str, int] = Field(description="Units of each ingredient in one portion")

    @classmethod
    def of(cls, dish: Dish) -> DishOut:
        return cls(
            id=dish.id,
            name=dish.name,
            description=dish.description,
            image_url=dish.image_url,
            price_cents=dish.price_cents,
            version=dish.version,
            ingredients=dict(dish.recipe),
        )


class PlaceOrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    dish_id: DishId
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY), WHOLE] = 1
    dish_version: Annotated[
        int | None,
        Field(
            ge=1,
            description="The dish's version the customer saw: refused with 409 when the dish changed since. "
            "Without it, the order takes the dish as it is when the order is placed.",
        ),
        WHOLE,
    ] = None


class OrderListQuery(TimePageQuery):
    status: list[OrderStatus] = Field(default_factory=list, description="Only orders in these states (repeatable)")


class OrderOut(BaseModel):
    """An order; `version` grows by one with every change of state."""

    order_id: str
    customer_id: str
    dish_id: str
    dish_name: str
    quantity: int = Field(ge=1)
    total_cents: int = Field(gt=0)
    status: OrderStatus
    version: int = Field(ge=1)
    expires_at: datetime | None = Field(
        default=None,
        description="The order's deadline while it waits: pending, when it fails unless the warehouse has "
        "delivered; reserved, when it expires unless paid",
    )
    reason: str | None = Field(default=None, description="Why it failed, expired or was cancelled")
    created_at: datetime = Field(description="When it was placed (its journey's first step)")
    updated_at: datetime = Field(description="When it last changed state (its journey's latest change)")

    @classmethod
    def of_entry(cls, entry: OrderEntry) -> OrderOut:
        return cls(**vars(entry.order), created_at=entry.created_at, updated_at=entry.updated_at)


class JourneyStepOut(BaseModel):
    """One step of an order's journey. `key` is its identity: `v<version>` for a change of state
    (`kind` is then the state entered), `requested:`, `purchase:`, `delivered:` or `supply_failed:`
    and an id for a step of its supply; the live feed's events carry the same keys."""

    key: str
    kind: str = Field(
        description="A state (pending, reserved, served, cancelled, expired, failed) or "
        "requested, purchased, delivered, supply_failed"
    )
    at: datetime
    ingredient: str | None = None
    amount: int | None = Field(default=None, description="Units requested, bought or delivered")
    detail: str | None = Field(default=None, description="Why (a state's reason, a failure) or the supplier")

    @classmethod
    def of(cls, step: Step) -> JourneyStepOut:
        return cls.model_validate(step, from_attributes=True)


class PantryItem(BaseModel):
    ingredient: str
    on_hand: int = Field(ge=0)
    reserved: int = Field(ge=0)
    available: int = Field(ge=0)
    version: int = Field(ge=0, description="Grows with every change of the row: the pantry events carry it too")

    @classmethod
    def of(cls, b: Balance) -> PantryItem:
        return cls(
            ingredient=b.ingredient, on_hand=b.on_hand, reserved=b.reserved, available=b.available, version=b.version
        )


class MovementOut(BaseModel):
    id: int
    ingredient: str
    delta: int
    reason: PantryReason
    order_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, m: Movement) -> MovementOut:
        return cls(**vars(m))
