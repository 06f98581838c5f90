"""JetStream handlers: each event becomes a command for one use case, run with the delivery's inbox
entry (a redelivery has no second effect).

Ack, nak and dead-lettering are the common runner's. `POISON` is empty: every event this service
reads can be acted on (one about a user it has not heard of yet still makes a notification, and its
mail waits for the address), so only a message that fails validation is dead-lettered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from brigade_common.consumer import ConsumerSpec, Delivery, Poison
from brigade_common.envelope import Envelope
from brigade_common.messaging import MessageContext
from brigade_common.settings import ConsumerSettings
from brigade_contracts import auth as a
from brigade_contracts import kitchen as k
from brigade_contracts import payments as p
from brigade_notifications.domain.facts import NewDish, OrderChange, Payment, Registration, RolesChange
from brigade_notifications.service import commands as c
from brigade_notifications.service.notifications import NotificationsApp

POISON: tuple[type[Exception], ...] = ()
CONTEXT = "notifications"


def _user_command(env: Envelope) -> Any:
    if env.type == a.USER_REGISTERED:
        u = a.UserRegistered.model_validate(env.data)
        return c.RecordRegistration(
            Registration(u.user_id, u.email, u.display_name, frozenset(u.roles)), env.occurred_at
        )
    if env.type == a.USER_ROLE_CHANGED:
        r = a.UserRoleChanged.model_validate(env.data)
        return c.RecordRolesChange(RolesChange(r.user_id, frozenset(r.roles)), env.occurred_at)
    raise Poison(f"unexpected message type {env.type}")


def _order_command(env: Envelope) -> Any:
    o = k.OrderSnapshot.model_validate(env.data)
    order = OrderChange(
        o.order_id, o.customer_id, o.dish_name, o.quantity, o.total_cents, o.status, o.version, o.expires_at, o.reason
    )
    return c.NotifyOrderChange(order, env.occurred_at)


_PAYMENTS: dict[str, tuple[type[p.PaymentSucceeded | p.PaymentFailed | p.PaymentRefunded], c.PaymentOutcome]] = {
    p.PAYMENT_SUCCEEDED: (p.PaymentSucceeded, c.PaymentOutcome.SUCCEEDED),
    p.PAYMENT_FAILED: (p.PaymentFailed, c.PaymentOutcome.FAILED),
    p.PAYMENT_REFUNDED: (p.PaymentRefunded, c.PaymentOutcome.REFUNDED),
}


def _payment_command(env: Envelope) -> Any:
    if env.type not in _PAYMENTS:
        raise Poison(f"unexpected message type {env.type}")
    model, outcome = _PAYMENTS[env.type]
    pay = model.model_validate(env.data)
    reason = pay.reason if isinstance(pay, p.PaymentFailed | p.PaymentRefunded) else None
    payment = Payment(pay.payment_id, pay.order_id, pay.customer_id, pay.amount_cents, reason)
    return c.NotifyPayment(payment, outcome, env.occurred_at)


def _dish_command(env: Envelope) -> Any:
    d = k.DishSnapshot.model_validate(env.data)
    return c.NotifyDishAdded(NewDish(d.dish_id, d.name, d.description, d.price_cents), env.occurred_at)


def consumer_specs(app: NotificationsApp, settings: ConsumerSettings) -> list[ConsumerSpec]:
    def handler(command_of: Callable[[Envelope], Any]) -> Callable[[Envelope, Delivery], Awaitable[None]]:
        async def handle(env: Envelope, delivery: Delivery) -> None:
            await app.handle(command_of(env), context=MessageContext.caused_by(env), inbox=delivery.inbox)

        return handle

    def spec(name: str, stream: str, subjects: tuple[str, ...], command_of: Callable[[Envelope], Any]) -> ConsumerSpec:
        return ConsumerSpec(
            name, stream, subjects, CONTEXT, handler=handler(command_of), poison=POISON, **settings.consumer_options()
        )

    order_events = tuple(k.ORDER_EVENT_TYPES.values())  # not kitchen.order.*.v1: that holds expiry_due too
    return [
        spec("notifications-users", "AUTH", (a.USER_REGISTERED, a.USER_ROLE_CHANGED), _user_command),
        spec("notifications-orders", "KITCHEN", order_events, _order_command),
        spec("notifications-dishes", "KITCHEN", (k.DISH_CREATED,), _dish_command),
        spec("notifications-payments", "PAYMENTS", tuple(_PAYMENTS), _payment_command),
    ]
