"""Kitchen's JetStream handlers: the message's payload becomes a command for one use case.

Ack, nak and dead-lettering are the common runner's; `POISON` says, once, which of the kitchen's
errors no retry can cure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from brigade_common.consumer import ConsumerSpec, Delivery, Handler, Poison
from brigade_common.envelope import Envelope
from brigade_common.messaging import MessageContext
from brigade_common.settings import ConsumerSettings
from brigade_contracts import kitchen as k
from brigade_contracts import payments as p
from brigade_contracts import warehouse as w
from brigade_kitchen.domain.errors import InvalidTransition, UnknownOrder, UnknownSupplyRequest
from brigade_kitchen.service import commands
from brigade_kitchen.service.kitchen import Kitchen
from brigade_kitchen.service.ports import MenuCache

POISON: tuple[type[Exception], ...] = (UnknownOrder, UnknownSupplyRequest, InvalidTransition)
# Messages handled at once by a consumer whose handlers go into groups of one transaction (the
# deliveries', the purchases'): what a transaction may take is every message its consumer hands out.
TOGETHER = 64


def _warehouse_command(env: Envelope) -> Any:
    if env.type == w.SUPPLY_DELIVERED:
        delivered = w.SupplyDelivered.model_validate(env.data)
        return commands.ApplyDelivery(delivered.request_id, delivered.amount)
    if env.type == w.SUPPLY_FAILED:
        failed = w.SupplyFailed.model_validate(env.data)
        return commands.ApplySupplyFailure(failed.request_id, failed.reason)
    raise Poison(f"unexpected message type {env.type}")


def _purchase_command(env: Envelope) -> commands.RecordPurchase:
    bought = w.PurchaseMade.model_validate(env.data)
    return commands.RecordPurchase(
        bought.purchase_id, bought.request_id, bought.received, bought.supplier, env.occurred_at
    )


def _payment_command(env: Envelope) -> Any:
    paid = p.PaymentSucceeded.model_validate(env.data)
    return commands.ServePaidOrder(paid.order_id, paid.payment_id, paid.customer_id, paid.amount_cents)


def _expiry_command(env: Envelope) -> Any:
    due = k.OrderExpiryDue.model_validate(env.data)
    return commands.ExpireOrder(due.order_id, scheduled_for=due.expires_at)


def _forgetting(menu: MenuCache) -> Callable[[Envelope, Delivery], Awaitable[None]]:
    """A dish changed (its event went out through the outbox, after the commit): what the cache held
    of it goes. Nothing is written, so there is no inbox to claim: forgetting twice is harmless."""

    async def forget(env: Envelope, delivery: Delivery) -> None:
        await menu.forget(k.DishSnapshot.model_validate(env.data).dish_id)

    return forget


def consumer_specs(kitchen: Kitchen, settings: ConsumerSettings, menu: MenuCache | None = None) -> list[ConsumerSpec]:
    def handler(command_of: Callable[[Envelope], Any]) -> Handler:
        async def handle(env: Envelope, delivery: Delivery) -> None:
            await kitchen.handle(command_of(env), context=MessageContext.caused_by(env), inbox=delivery.inbox)

        return handle

    async def supply(env: Envelope, delivery: Delivery) -> None:
        cmd = _warehouse_command(env)
        context = MessageContext.caused_by(env)
        if isinstance(cmd, commands.ApplyDelivery):  # deliveries that come together are applied together
            await kitchen.receive(cmd, context=context, inbox=delivery.inbox)
        else:
            await kitchen.handle(cmd, context=context, inbox=delivery.inbox)

    async def purchase(env: Envelope, delivery: Delivery) -> None:  # with the purchases that come with it
        await kitchen.receive(_purchase_command(env), context=MessageContext.caused_by(env), inbox=delivery.inbox)

    def spec(name: str, stream: str, subjects: tuple[str, ...], handle: Handler, concurrency: int = 16) -> ConsumerSpec:
        options = settings.consumer_options()
        return ConsumerSpec(
            name, stream, subjects, "kitchen", handler=handle, poison=POISON, concurrency=concurrency, **options
        )

    forgetting = (
        [
            ConsumerSpec(
                "kitchen-menu-cache",
                "KITCHEN",
                (k.DISH_CREATED, k.DISH_UPDATED, k.DISH_RETIRED),
                "kitchen",
                handler=_forgetting(menu),
                **settings.consumer_options(),
            )
        ]
        if menu is not None
        else []
    )
    return [
        *forgetting,
        # Their handlers wait in the delivery transactions' queue holding nothing (no connection), and
        # each transaction takes all that wait: with 16 at a time, a consumer's messages queued in the
        # stream whenever they came faster than 16 per transaction.
        spec("kitchen-supply", "WAREHOUSE", (w.SUPPLY_DELIVERED, w.SUPPLY_FAILED), supply, TOGETHER),
        spec("kitchen-purchases", "WAREHOUSE", (w.PURCHASE_MADE,), purchase, TOGETHER),
        spec("kitchen-payments", "PAYMENTS", (p.PAYMENT_SUCCEEDED,), handler(_payment_command)),
        spec("kitchen-expiry", "KITCHEN", (k.ORDER_EXPIRY_DUE,), handler(_expiry_command)),
    ]
