"""Brigade's message contracts: every subject and the pydantic model of its payload.

The event reference in docs/events.md is generated from `CATALOG`, so it cannot drift.
"""

from __future__ import annotations

from pydantic import BaseModel

from brigade_contracts import auth, kitchen, market, notifications, payments, warehouse

CATALOG: dict[str, tuple[type[BaseModel], str]] = {
    warehouse.SUPPLY_CMD: (warehouse.SupplyIngredient, "kitchen → warehouse"),
    warehouse.SUPPLY_DELIVERED: (warehouse.SupplyDelivered, "warehouse → kitchen"),
    warehouse.SUPPLY_FAILED: (warehouse.SupplyFailed, "warehouse → kitchen"),
    warehouse.STOCK_MOVED: (warehouse.StockMoved, "warehouse → live view"),
    warehouse.PURCHASE_MADE: (warehouse.PurchaseMade, "warehouse → anyone"),
    kitchen.ORDER_PLACED: (kitchen.OrderSnapshot, "kitchen → payments, notifications"),
    kitchen.ORDER_RESERVED: (kitchen.OrderSnapshot, "kitchen → payments, notifications"),
    kitchen.ORDER_SERVED: (kitchen.OrderSnapshot, "kitchen → payments, notifications"),
    kitchen.ORDER_CANCELLED: (kitchen.OrderSnapshot, "kitchen → payments, notifications"),
    kitchen.ORDER_EXPIRED: (kitchen.OrderSnapshot, "kitchen → payments, notifications"),
    kitchen.ORDER_FAILED: (kitchen.OrderSnapshot, "kitchen → payments, notifications"),
    kitchen.JOURNEY_STEP: (kitchen.JourneyStep, "kitchen → live view (the order's owner, staff)"),
    kitchen.ORDER_EXPIRY_DUE: (kitchen.OrderExpiryDue, "kitchen → kitchen (scheduled)"),
    kitchen.PANTRY_MOVED: (kitchen.PantryMoved, "kitchen → live view"),
    kitchen.PANTRY_HELD: (kitchen.PantryHeld, "kitchen → live view"),
    payments.PAYMENT_SUCCEEDED: (payments.PaymentSucceeded, "payments → kitchen"),
    payments.PAYMENT_FAILED: (payments.PaymentFailed, "payments → notifications"),
    payments.PAYMENT_REFUNDED: (payments.PaymentRefunded, "payments → notifications"),
    kitchen.PAYMENT_REFUSED: (kitchen.PaymentRefused, "kitchen → payments (refund it)"),
    kitchen.DISH_CREATED: (kitchen.DishSnapshot, "kitchen → notifications, live view"),
    kitchen.DISH_UPDATED: (kitchen.DishSnapshot, "kitchen → notifications, live view"),
    kitchen.DISH_RETIRED: (kitchen.DishSnapshot, "kitchen → notifications, live view"),
    auth.USER_REGISTERED: (auth.UserRegistered, "auth → notifications, payments"),
    auth.USER_ROLE_CHANGED: (auth.UserRoleChanged, "auth → notifications"),
    notifications.NOTIFICATION_CREATED: (notifications.NotificationCreated, "notifications → live view (its user)"),
    notifications.NOTIFICATIONS_READ: (notifications.NotificationsRead, "notifications → live view (its user)"),
    auth.JWKS: (auth.JwksRequest, "every service → auth (request-reply, answers JwksReply)"),
    kitchen.ORDER_GET: (kitchen.OrderRequest, "payments → kitchen (request-reply, answers OrderSnapshot)"),
    market.BUY: (market.BuyRequest, "warehouse → market (request-reply, answers BuyReply)"),
}
