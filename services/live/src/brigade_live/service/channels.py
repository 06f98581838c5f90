"""Brigade's channels: the streams and event types of each (brigade_live.domain.channels says what one is)."""

from __future__ import annotations

from collections.abc import Mapping

from brigade_contracts import streams
from brigade_contracts.kitchen import (
    DISH_CREATED,
    DISH_EVENTS,
    DISH_RETIRED,
    DISH_UPDATED,
    JOURNEY_STEP,
    ORDER_EVENT_TYPES,
    PANTRY_EVENTS,
    PANTRY_HELD,
    PANTRY_MOVED,
)
from brigade_contracts.notifications import NOTIFICATION_CREATED, NOTIFICATION_EVENTS, NOTIFICATIONS_READ
from brigade_contracts.warehouse import PURCHASE_MADE, STOCK_MOVED
from brigade_live.domain.channels import NOBODY, STAFF, Channel

CHANNELS: Mapping[str, Channel] = {
    c.name: c
    for c in (
        # The kitchen's pantry ledger and its holds for orders, and the warehouse's stock ledger with its
        # market purchases: staff's.
        Channel("pantry", streams.KITCHEN.name, (PANTRY_EVENTS,), frozenset({PANTRY_MOVED, PANTRY_HELD}), roles=STAFF),
        Channel(
            "stock", streams.WAREHOUSE.name, ("warehouse.>",), frozenset({STOCK_MOVED, PURCHASE_MADE}), roles=STAFF
        ),
        # Every change of an order and every other step of its journey (supply requested, bought,
        # delivered): a customer's own, every one for staff.
        Channel(
            "orders",
            streams.KITCHEN.name,
            ("kitchen.order.*.v1", JOURNEY_STEP),
            frozenset({*ORDER_EVENT_TYPES.values(), JOURNEY_STEP}),
            owner_field="customer_id",
        ),
        # The menu as staff change it (a dish added, changed, retired): anyone signed in.
        Channel("menu", streams.KITCHEN.name, (DISH_EVENTS,), frozenset({DISH_CREATED, DISH_UPDATED, DISH_RETIRED})),
        # A user's own notifications and unread count (the bell): nobody else's, staff included.
        Channel(
            "notifications",
            streams.NOTIFICATIONS.name,
            (NOTIFICATION_EVENTS,),
            frozenset({NOTIFICATION_CREATED, NOTIFICATIONS_READ}),
            owner_field="user_id",
            sees_all=NOBODY,
        ),
    )
}
