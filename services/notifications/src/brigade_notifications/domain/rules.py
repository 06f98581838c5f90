"""Which events make which notifications, for whom: pure functions from facts to `Notice`s.

Each notice names its `source`, a key of what caused it (`order:<id>:v<version>`), not the
envelope's id: a cause published twice under two ids (a replay, a re-sent outbox row) still makes
one notification and one e-mail per recipient.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from brigade_contracts.kitchen import OrderStatus
from brigade_notifications.domain.facts import NewDish, OrderChange, Payment, Registration
from brigade_notifications.domain.model import Kind, Notice, User, one_line

ORDER_KINDS: dict[OrderStatus, Kind] = {
    OrderStatus.PENDING: Kind.ORDER_PLACED,
    OrderStatus.RESERVED: Kind.ORDER_RESERVED,
    OrderStatus.SERVED: Kind.ORDER_SERVED,
    OrderStatus.CANCELLED: Kind.ORDER_CANCELLED,
    OrderStatus.EXPIRED: Kind.ORDER_EXPIRED,
    OrderStatus.FAILED: Kind.ORDER_FAILED,
}


def money(cents: int) -> str:
    """Cents as the app shows them: `1250` → `12.50`."""
    return f"{cents // 100}.{cents % 100:02d}"


def _at(moment: datetime | None) -> str | None:
    return moment.strftime("%H:%M UTC") if moment is not None else None


def welcome(user: Registration, at: datetime) -> Notice:
    return Notice(
        user.user_id,
        Kind.WELCOME,
        f"user:{user.user_id}:welcome",
        one_line(f"Welcome to Brigade, {user.display_name}"),
        "Your account is ready: order from today's menu, and follow your orders here.",
        at,
        {"display_name": user.display_name},
    )


def _order_text(order: OrderChange) -> tuple[str, str]:
    dish = f"{order.quantity} × {order.dish_name}"
    total = money(order.total_cents)
    match order.status:
        case OrderStatus.PENDING:
            return "Order received", f"{dish}: the kitchen is gathering the ingredients."
        case OrderStatus.RESERVED:
            due = _at(order.expires_at)
            until = f" by {due}" if due else ""
            return "Ready for payment", f"{dish} is set aside for you: pay {total}{until} to have it served."
        case OrderStatus.SERVED:
            return "Order served", f"{dish} is served. Enjoy your meal!"
        case OrderStatus.CANCELLED:
            return "Order cancelled", f"{dish} was cancelled."
        case OrderStatus.EXPIRED:
            return "Order expired", f"{dish} was not paid in time and has expired."
        case OrderStatus.FAILED:
            why = f" ({order.reason})" if order.reason else ""
            return "Order failed", f"The kitchen could not get the ingredients for {dish}{why}."
    raise ValueError(f"no notice for an order that is {order.status}")


def order_changed(order: OrderChange, at: datetime) -> Notice:
    """The customer hears of every state their order enters."""
    title, body = _order_text(order)
    return Notice(
        order.customer_id,
        ORDER_KINDS[order.status],
        f"order:{order.order_id}:v{order.version}",
        title,
        one_line(body, 500),
        at,
        {
            "order_id": order.order_id,
            "dish_name": order.dish_name,
            "quantity": order.quantity,
            "total": money(order.total_cents),
            "status": order.status.value,
            "expires_at": _at(order.expires_at),
            "reason": order.reason,
        },
    )


def _payment(payment: Payment, kind: Kind, outcome: str, title: str, body: str, at: datetime) -> Notice:
    return Notice(
        payment.customer_id,
        kind,
        f"payment:{payment.payment_id}:{outcome}",
        title,
        one_line(body, 500),
        at,
        {
            "payment_id": payment.payment_id,
            "order_id": payment.order_id,
            "amount": money(payment.amount_cents),
            "reason": payment.reason,
        },
    )


def receipt(payment: Payment, at: datetime) -> Notice:
    amount = money(payment.amount_cents)
    body = f"We received {amount} for your order. Thank you!"
    return _payment(payment, Kind.PAYMENT_RECEIPT, "succeeded", "Payment received", body, at)


def declined(payment: Payment, at: datetime) -> Notice:
    why = f": {payment.reason}" if payment.reason else ""
    body = f"Your payment of {money(payment.amount_cents)} was declined{why}. The order is still yours to pay."
    return _payment(payment, Kind.PAYMENT_DECLINED, "failed", "Payment declined", body, at)


def refunded(payment: Payment, at: datetime) -> Notice:
    why = f" ({payment.reason})" if payment.reason else ""
    body = f"We gave back {money(payment.amount_cents)}: your order could not be served{why}."
    return _payment(payment, Kind.REFUND, "refunded", "Payment refunded", body, at)


def dish_added(dish: NewDish, users: Iterable[User], at: datetime) -> list[Notice]:
    """Every staff member hears of a new dish (seed 002's `article.added`, which told one admin)."""
    return [
        Notice(
            user.user_id,
            Kind.DISH_ADDED,
            f"dish:{dish.dish_id}:created",
            one_line(f"New dish: {dish.name}"),
            one_line(f"{dish.name} ({money(dish.price_cents)}) is on the menu. {dish.description}", 500),
            at,
            {
                "dish_id": dish.dish_id,
                "dish_name": dish.name,
                "description": dish.description,
                "price": money(dish.price_cents),
            },
        )
        for user in users
        if user.is_staff
    ]
