"""What the kitchen shows, with who may see it: read straight from the read side, no unit of work."""

from __future__ import annotations

from datetime import date

from brigade_kitchen.domain.errors import UnknownOrder
from brigade_kitchen.domain.journey import Step
from brigade_kitchen.domain.menu import todays_menu as rank_menu
from brigade_kitchen.domain.model import Dish
from brigade_kitchen.service.ports import KitchenViews, OrderEntry


async def todays_menu(views: KitchenViews, day: date) -> list[Dish]:
    """Up to seven dishes, the same all day, in the menu's order."""
    ids = rank_menu(await views.dish_ids(), day)
    by_id = {d.id: d for d in await views.dishes(ids)}
    return [by_id[i] for i in ids if i in by_id]


async def visible_order(views: KitchenViews, order_id: str, *, viewer: str, is_staff: bool) -> OrderEntry:
    """The order, when `viewer` placed it or is staff; otherwise it does not exist for them."""
    entry = await views.order_entry(order_id)
    if entry is None or (entry.order.customer_id != viewer and not is_staff):
        raise UnknownOrder(order_id)
    return entry


async def visible_journey(views: KitchenViews, order_id: str, *, viewer: str, is_staff: bool) -> list[Step]:
    """The order's journey, seen by whoever may see the order (`visible_order`)."""
    await visible_order(views, order_id, viewer=viewer, is_staff=is_staff)
    return await views.journey(order_id)
