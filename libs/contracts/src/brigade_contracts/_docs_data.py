"""The example saga, field glossary and envelope description that docs.py renders into docs/events.md.

Data only: ids and times are fixed so the generated document is the same on every run.
"""

from __future__ import annotations

import uuid
from typing import Any

from brigade_contracts import auth, kitchen, market, notifications, payments, warehouse

# The envelope every message travels in (brigade_common.envelope.Envelope; the contracts do not import
# the common library, the docs test checks the two agree).
ENVELOPE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("id", "string", "Unique message id (a UUID); also the `Nats-Msg-Id` header, so a re-send is recognised."),
    ("type", "string", "The subject the message is published on, e.g. `warehouse.supply.delivered.v1`."),
    ("occurred_at", "string (date-time)", "When the change happened (UTC, ISO 8601)."),
    (
        "correlation_id",
        "string",
        "Shared by every message of one saga: a caused message inherits its cause's "
        "(an order's saga uses the request's `Correlation-Id`, else the order id).",
    ),
    ("causation_id", "string \\| null", "The `id` of the message that caused this one; null for a first cause."),
    ("data", "object", "The payload: the subject's model, below."),
)
HEADERS: tuple[tuple[str, str], ...] = (
    (
        "Nats-Msg-Id",
        "the envelope `id` (outbox row id): JetStream drops a re-publish inside the "
        "stream's duplicate window, the consumers' inbox drops it after",
    ),
    ("Correlation-Id", "the envelope `correlation_id`"),
    ("traceparent", "W3C trace context, when there is one"),
)

# Shared by every example: one saga, one clock.
EXAMPLE_NAMESPACE = uuid.UUID("6b1f3c1e-5a0e-4f4e-9a57-0d1c2b3a4f00")
EXAMPLE_TIME = "2025-03-14T12:00:00Z"
ORDER_ID = "0d9f3b5e-2c41-4a8e-9b6f-1e2d3c4b5a69"
EXAMPLE_CORRELATION = ORDER_ID
REQUEST_ID = "8a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
CUSTOMER_ID = "customer-demo"
PAYMENT_ID = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
USER_ID = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
ADMIN_ID = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
NOTIFICATION_ID = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
_DISH = {
    "dish_id": "ensalada-cesar",
    "name": "Ensalada Cesar",
    "description": "Lechuga romana con pollo a la plancha.",
    "price_cents": 850,
    "ingredients": {"lechuga": 5, "pollo": 2},
}
_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "kFkY0oFJ4m2M3zJ8rQy8S0eQ3b9jV2WkqXw4pT7mN1c",
    "alg": "EdDSA",
    "use": "sig",
}

# Seed 000: two Ensalada Cesar need 10 lechuga, the pantry has 4, so the kitchen asks the warehouse for 6;
# the warehouse has 2 and buys the rest.
_ORDER = {
    "order_id": ORDER_ID,
    "customer_id": CUSTOMER_ID,
    "dish_id": "ensalada-cesar",
    "dish_name": "Ensalada Cesar",
    "quantity": 2,
    "total_cents": 1700,
}
_EXPIRES = "2025-03-14T12:15:01Z"

# Example payloads, per subject; each is validated against its model before it is printed.
EXAMPLES: dict[str, dict[str, Any]] = {
    warehouse.SUPPLY_CMD: {"request_id": REQUEST_ID, "order_id": ORDER_ID, "ingredient": "lechuga", "amount": 6},
    warehouse.SUPPLY_DELIVERED: {"request_id": REQUEST_ID, "order_id": ORDER_ID, "ingredient": "lechuga", "amount": 6},
    warehouse.SUPPLY_FAILED: {
        "request_id": REQUEST_ID,
        "order_id": ORDER_ID,
        "ingredient": "lechuga",
        "amount": 6,
        "reason": "market unavailable: no responders on market.buy",
    },
    warehouse.STOCK_MOVED: {
        "movement_id": 42,
        "ingredient": "lechuga",
        "delta": -6,
        "reason": "supply",
        "balance": 0,
        "request_id": REQUEST_ID,
        "version": 9,
        "created_at": "2025-03-14T12:00:00.812Z",
    },
    warehouse.PURCHASE_MADE: {
        "purchase_id": 7,
        "request_id": REQUEST_ID,
        "ingredient": "lechuga",
        "requested": 4,
        "received": 3,
        "supplier": "La Granja",
        "created_at": "2025-03-14T12:00:00.604Z",
    },
    kitchen.ORDER_PLACED: {**_ORDER, "status": "pending", "version": 1},
    kitchen.JOURNEY_STEP: {
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "key": "purchase:7",
        "kind": "purchased",
        "ingredient": "lechuga",
        "amount": 3,
        "detail": "La Granja",
        "at": "2025-03-14T12:00:00.250000Z",
    },
    kitchen.ORDER_RESERVED: {**_ORDER, "status": "reserved", "version": 2, "expires_at": _EXPIRES},
    kitchen.ORDER_SERVED: {**_ORDER, "status": "served", "version": 3, "expires_at": _EXPIRES},
    kitchen.ORDER_CANCELLED: {
        **_ORDER,
        "status": "cancelled",
        "version": 3,
        "expires_at": _EXPIRES,
        "reason": "cancelled by customer-demo",
    },
    kitchen.ORDER_EXPIRED: {
        **_ORDER,
        "status": "expired",
        "version": 3,
        "expires_at": _EXPIRES,
        "reason": "not paid in time",
    },
    kitchen.ORDER_FAILED: {
        **_ORDER,
        "status": "failed",
        "version": 2,
        "reason": "could not get 6 lechuga: market unavailable: no responders on market.buy",
    },
    kitchen.ORDER_EXPIRY_DUE: {"order_id": ORDER_ID, "expires_at": _EXPIRES},
    kitchen.PANTRY_MOVED: {
        "movement_id": 118,
        "ingredient": "lechuga",
        "delta": 6,
        "reason": "delivery",
        "on_hand": 10,
        "reserved": 10,
        "order_id": ORDER_ID,
        "version": 31,
        "created_at": "2025-03-14T12:00:01.020Z",
    },
    kitchen.PANTRY_HELD: {
        "order_id": ORDER_ID,
        "balances": [
            {"ingredient": "lechuga", "delta": 4, "on_hand": 4, "reserved": 4, "version": 30},
            {"ingredient": "pollo", "delta": 2, "on_hand": 2, "reserved": 2, "version": 12},
        ],
    },
    payments.PAYMENT_SUCCEEDED: {
        "payment_id": PAYMENT_ID,
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "amount_cents": 1700,
    },
    payments.PAYMENT_FAILED: {
        "payment_id": PAYMENT_ID,
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "amount_cents": 1700,
        "reason": "Your card has insufficient funds.",
        "code": "insufficient_funds",
    },
    market.BUY: {"ingredient": "lechuga", "amount": 4},
    payments.PAYMENT_REFUNDED: {
        "payment_id": PAYMENT_ID,
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "amount_cents": 1700,
        "reason": "the order had expired when the payment reached the kitchen",
    },
    kitchen.PAYMENT_REFUSED: {
        "payment_id": PAYMENT_ID,
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "amount_cents": 1700,
        "order_status": "expired",
        "reason": "the order had expired when the payment reached the kitchen",
    },
    kitchen.DISH_CREATED: {**_DISH, "version": 1},
    kitchen.DISH_UPDATED: {**_DISH, "price_cents": 900, "version": 2},
    kitchen.DISH_RETIRED: {**_DISH, "price_cents": 900, "version": 3},
    auth.USER_REGISTERED: {
        "user_id": USER_ID,
        "email": "ana@example.com",
        "display_name": "Ana",
        "roles": ["customer"],
    },
    auth.USER_ROLE_CHANGED: {
        "user_id": USER_ID,
        "roles": ["customer", "staff"],
        "previous_roles": ["customer"],
        "changed_by": ADMIN_ID,
    },
    notifications.NOTIFICATION_CREATED: {
        "notification_id": NOTIFICATION_ID,
        "user_id": CUSTOMER_ID,
        "kind": "order_placed",
        "title": "Order received",
        "body": "2 × Ensalada Cesar: the kitchen is gathering the ingredients.",
        "data": {
            "order_id": ORDER_ID,
            "dish_name": "Ensalada Cesar",
            "quantity": 2,
            "total": "17.00",
            "status": "pending",
            "expires_at": None,
            "reason": None,
        },
        "created_at": EXAMPLE_TIME,
        "unread": 3,
    },
    notifications.NOTIFICATIONS_READ: {
        "user_id": CUSTOMER_ID,
        "notification_ids": [NOTIFICATION_ID],
        "all": False,
        "unread": 2,
    },
    auth.JWKS: {},
    kitchen.ORDER_GET: {"order_id": ORDER_ID},
}
REPLY_EXAMPLES: dict[str, dict[str, Any]] = {
    market.BUY: {"ingredient": "lechuga", "amount": 3, "supplier": "La Granja"},
    auth.JWKS: {"keys": [_JWK]},
    kitchen.ORDER_GET: {**_ORDER, "status": "reserved", "version": 2, "expires_at": _EXPIRES},
}

RPC_NOTES: dict[str, str] = {
    auth.JWKS: "Every service asks once at start, caches the answer, and asks again when a token names a `kid` "
    "it does not know (a key rotated in): never once per request.",
    kitchen.ORDER_GET: "Error `404` (`nats.micro` error headers) for an order the kitchen does not have.",
    market.BUY: "Errors come back as `nats.micro` error headers (`Nats-Service-Error-Code`, "
    "`Nats-Service-Error`): `400` for a request that fails validation, `503` when no supplier "
    "answered (injected failure). No responder at all means the market is down; the warehouse "
    "retries until its supply deadline.",
}

# What caused what in the examples (so `causation_id` reads like a real saga).
CAUSES: dict[str, str] = {
    warehouse.SUPPLY_CMD: kitchen.ORDER_PLACED,
    warehouse.SUPPLY_DELIVERED: warehouse.SUPPLY_CMD,
    warehouse.SUPPLY_FAILED: warehouse.SUPPLY_CMD,
    warehouse.STOCK_MOVED: warehouse.SUPPLY_CMD,
    warehouse.PURCHASE_MADE: warehouse.SUPPLY_CMD,
    kitchen.ORDER_RESERVED: warehouse.SUPPLY_DELIVERED,
    kitchen.JOURNEY_STEP: warehouse.PURCHASE_MADE,
    kitchen.ORDER_FAILED: warehouse.SUPPLY_FAILED,
    kitchen.ORDER_EXPIRY_DUE: warehouse.SUPPLY_DELIVERED,
    kitchen.ORDER_EXPIRED: kitchen.ORDER_EXPIRY_DUE,
    kitchen.ORDER_SERVED: payments.PAYMENT_SUCCEEDED,
    kitchen.PANTRY_MOVED: warehouse.SUPPLY_DELIVERED,
    kitchen.PANTRY_HELD: kitchen.ORDER_PLACED,
    kitchen.PAYMENT_REFUSED: payments.PAYMENT_SUCCEEDED,
    payments.PAYMENT_REFUNDED: kitchen.PAYMENT_REFUSED,
    notifications.NOTIFICATION_CREATED: kitchen.ORDER_PLACED,
}
# Messages that start a chain of their own (an HTTP request, not a message, caused them).
FIRST_CAUSES = frozenset(
    {
        kitchen.ORDER_PLACED,
        kitchen.ORDER_CANCELLED,
        payments.PAYMENT_SUCCEEDED,
        payments.PAYMENT_FAILED,
        kitchen.DISH_CREATED,
        kitchen.DISH_UPDATED,
        kitchen.DISH_RETIRED,
        auth.USER_REGISTERED,
        auth.USER_ROLE_CHANGED,
        notifications.NOTIFICATIONS_READ,
        auth.JWKS,
        kitchen.ORDER_GET,
    }
)

# Field descriptions until the contracts carry their own: "Model.field" first, then "field".
GLOSSARY: dict[str, str] = {
    "request_id": "The supply request (a UUID the kitchen chose); the warehouse acts once per request id.",
    "order_id": "The kitchen order this concerns.",
    "ingredient": "Ingredient name, lower snake case (`lechuga`, `pan_canilla`).",
    "SupplyIngredient.amount": "Whole units the kitchen is short of.",
    "SupplyDelivered.amount": "Whole units sent to the kitchen: always the full amount asked.",
    "SupplyFailed.amount": "Whole units that were asked for and not sent.",
    "SupplyFailed.reason": "Why, for a human (the last market error, or that the market never had enough).",
    "movement_id": "Ledger row id; grows with every movement, so it orders them.",
    "delta": "Signed change in whole units (+ in, − out).",
    "StockMoved.reason": "`seed` (demo data), `purchase` (+ bought from the market) or `supply` (− sent to the "
    "kitchen).",
    "StockMoved.request_id": "The supply request that caused the movement (null for `seed`).",
    "balance": "Units in stock after this movement.",
    "purchase_id": "Purchase row id.",
    "requested": "Units asked of the market.",
    "received": "Units the market sold (0 happens).",
    "supplier": "The supplier's display name.",
    "customer_id": "The customer (token subject) who placed the order.",
    "dish_id": "Dish slug (`ensalada-cesar`).",
    "dish_name": "The dish's name when the order was placed.",
    "quantity": "Portions ordered.",
    "total_cents": "What the order costs, in cents.",
    "OrderSnapshot.status": "The order's status after this change.",
    "version": "1 when placed, +1 per change. Each snapshot is the whole order: a replica applies one newer "
    "than what it holds and ignores an older or equal one (a missing version lost nothing).",
    "OrderSnapshot.expires_at": "While `reserved`: when an unpaid order expires.",
    "OrderSnapshot.reason": "Why the order failed, was cancelled or expired.",
    "OrderExpiryDue.expires_at": "The deadline the check was scheduled for; an early arrival is retried.",
    "JourneyStep.key": "The step's identity: the same step seen twice has the same key (`requested:`, "
    "`purchase:`, `delivered:` or `supply_failed:` and the request's or purchase's id). The order's changes "
    "of state are steps too, keyed `v<version>`: they are the order events.",
    "JourneyStep.kind": "`requested` (the warehouse was asked for `amount`), `purchased` (it bought `amount` at "
    "the market: `detail` is the supplier), `delivered` (it delivered `amount`) or `supply_failed` "
    "(`detail` says why).",
    "JourneyStep.amount": "Whole units asked for, bought or delivered.",
    "JourneyStep.detail": "The supplier of a purchase, why a supply failed, or a note on a late delivery.",
    "JourneyStep.at": "When it happened (a purchase: the warehouse's time), as `GET /orders/{id}/journey` shows it.",
    "PantryMoved.reason": "`seed` (demo data), `delivery` (+ from the warehouse) or `consume` (− a paid order "
    "was served).",
    "PantryMoved.order_id": "The order that caused the movement (null for `seed`).",
    "on_hand": "Units in the pantry after this movement, reserved ones included.",
    "reserved": "Units held for orders after this movement.",
    "PantryMoved.version": "The pantry row's version after this movement: +1 per change of the row (a movement "
    "or a hold), as `GET /api/kitchen/pantry` shows it. Apply the balances only over an older version.",
    "PantryMoved.created_at": "When the ledger row was written: the time `GET /api/kitchen/pantry/movements` shows.",
    "PantryHeld.balances": "Each ingredient whose hold changed, with its balances after.",
    "HeldBalance.delta": "Units held for the order (+) or released (−).",
    "HeldBalance.on_hand": "Units in the pantry after the change, reserved ones included.",
    "HeldBalance.reserved": "Units held for orders after the change.",
    "HeldBalance.version": "The pantry row's version after the change (see `kitchen.pantry.moved.v1`).",
    "StockMoved.version": "The stock row's version after this movement: +1 per movement of the row, as "
    "`GET /api/warehouse/stock` shows it. Apply the balance only over an older version.",
    "StockMoved.created_at": "When the ledger row was written: the time the stock movements read shows.",
    "PurchaseMade.created_at": "When the purchase was recorded: the time the purchases read shows.",
    "payment_id": "The payment.",
    "amount_cents": "The amount charged, in cents.",
    "PaymentFailed.reason": "The provider's decline message, for the customer.",
    "PaymentFailed.code": "Why, for machines: `card_declined`, `insufficient_funds`, `expired_card`, "
    "`processing_error` (the provider failed; a retry may succeed).",
    "PaymentRefunded.reason": "Why the charge was given back.",
    "PaymentRefused.order_status": "The order's status when the payment reached the kitchen.",
    "PaymentRefused.reason": "Why the kitchen could not serve it.",
    "DishSnapshot.dish_id": "Dish slug (`ensalada-cesar`).",
    "name": "The dish's name.",
    "description": "What the dish is, for the menu.",
    "price_cents": "Price of one portion, in cents.",
    "DishSnapshot.version": "1 when created, +1 per change (retiring included).",
    "ingredients": "Units of each ingredient in one portion.",
    "user_id": "The user (the `sub` of their tokens).",
    "email": "The user's e-mail address, normalised (lower case).",
    "display_name": "The name the user chose to be shown.",
    "roles": "The user's roles: `customer`, `staff`, `admin`.",
    "previous_roles": "The roles before the change.",
    "changed_by": "The admin who changed them.",
    "notification_id": "The notification (a UUID); `NotificationsRead.notification_ids` names it.",
    "NotificationCreated.user_id": "The user the notification is for (the `sub` of their tokens); only they see it.",
    "NotificationCreated.kind": "What it is about: `welcome`, `order_placed`, `order_reserved`, `order_served`, "
    "`order_cancelled`, `order_expired`, `order_failed`, `payment_receipt`, `payment_declined`, `refund`, "
    "`dish_added`.",
    "NotificationCreated.title": "One line, for the bell's list.",
    "NotificationCreated.body": "The text under the title.",
    "NotificationCreated.data": "What it is about (order, payment, dish ids …), as `GET /notifications` shows it; "
    "never an e-mail address.",
    "NotificationCreated.created_at": "When its cause happened.",
    "unread": "How many of the user's notifications are unread after this change.",
    "notification_ids": "The notifications this change marked read (empty when `all`).",
    "NotificationsRead.all": "Every one of the user's notifications created before this event is read.",
    "keys": "The JWKS keys: Ed25519 (`OKP`) public keys with their `kid`.",
    "BuyRequest.amount": "Whole units wanted.",
    "BuyReply.amount": "Whole units obtained: 0 up to the market's maximum (10), never more than asked.",
}
