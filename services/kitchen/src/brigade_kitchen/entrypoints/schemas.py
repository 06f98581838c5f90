"""The kitchen's HTTP models: what its API reads and answers (mapped from the model here only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from brigade_common.inputs import WHOLE
from brigade_common.pagination import TimePageQuery
from brigade_contracts.kitchen import OrderStatus, PantryReason
from brigade_kitchen.domain.events import OrderState
from brigade_kitchen.domain.model import MAX_QUANTITY, Balance, Dish
from brigade_kitchen.service.ports import Movement

DISH_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"

DishId = Annotated[str, Field(pattern=DISH_ID, description="A dish's id: lowercase letters, digits and dashes")]


class DishPath(BaseModel):
    dish_id: DishId


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

    @classmethod
    def of(cls, order: OrderState) -> OrderOut:
        return cls(**vars(order))


class PantryItem(BaseModel):
    ingredient: str
    on_hand: int = Field(ge=0)
    reserved: int = Field(ge=0)
    available: int = Field(ge=0)

    @classmethod
    def of(cls, b: Balance) -> PantryItem:
        return cls(ingredient=b.ingredient, on_hand=b.on_hand, reserved=b.reserved, available=b.available)


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
