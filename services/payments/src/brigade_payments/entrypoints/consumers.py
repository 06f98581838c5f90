"""The payments service's JetStream handlers: the kitchen's messages become commands.

- `payments-orders`: every `kitchen.order.*` snapshot, for the replica (in version order: older and
  repeated snapshots change nothing).
- `payments-refusals`: `kitchen.payment.refused.v1`, a payment the kitchen could not serve with:
  refunded. Long-running (the provider is called between two transactions), so the runner skips a
  refusal the inbox holds before calling the provider again.

Ack, nak and dead-lettering are the common runner's; `POISON` says, once, which errors no retry can cure.
"""

from __future__ import annotations

import uuid

from brigade_common.consumer import ConsumerSpec, Delivery, Poison
from brigade_common.envelope import Envelope
from brigade_common.messaging import MessageContext
from brigade_common.settings import ConsumerSettings
from brigade_contracts import kitchen as k
from brigade_payments.domain.errors import InvalidPaymentTransition, UnknownPayment
from brigade_payments.domain.model import OrderState
from brigade_payments.service import commands
from brigade_payments.service.payments import Cashier

# A refusal of a payment this service never made (or never saw succeed) names something to look at.
POISON: tuple[type[Exception], ...] = (UnknownPayment, InvalidPaymentTransition)
ORDER_SUBJECTS = tuple(k.ORDER_EVENT_TYPES.values())  # not `kitchen.order.*.v1`: that is the expiry check too


def _order(env: Envelope) -> commands.ApplyOrderSnapshot:
    snapshot = k.OrderSnapshot.model_validate(env.data)
    try:
        uuid.UUID(snapshot.order_id)
    except ValueError:
        raise Poison(f"order id {snapshot.order_id!r} is not a UUID") from None
    order = OrderState(snapshot.order_id, snapshot.customer_id, snapshot.total_cents, snapshot.status, snapshot.version)
    return commands.ApplyOrderSnapshot(order)


def consumer_specs(cashier: Cashier, settings: ConsumerSettings) -> list[ConsumerSpec]:
    async def on_order(env: Envelope, delivery: Delivery) -> None:
        await cashier.apply(_order(env), context=MessageContext.caused_by(env), inbox=delivery.inbox)

    async def on_refusal(env: Envelope, delivery: Delivery) -> None:
        refused = k.PaymentRefused.model_validate(env.data)
        cmd = commands.RefundPayment(refused.payment_id, refused.reason)
        await cashier.refund(cmd, context=MessageContext.caused_by(env), progress=delivery)

    options = settings.consumer_options()
    return [
        ConsumerSpec(
            "payments-orders", "KITCHEN", ORDER_SUBJECTS, "payments", handler=on_order, poison=POISON, **options
        ),
        ConsumerSpec(
            "payments-refusals",
            "KITCHEN",
            (k.PAYMENT_REFUSED,),
            "payments",
            handler=on_refusal,
            long_running=True,
            poison=POISON,
            **options,
        ),
    ]
