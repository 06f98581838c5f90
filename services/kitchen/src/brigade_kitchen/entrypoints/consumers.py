"""Kitchen's JetStream handlers: parse the payload, call the use case. Ack/nak/term is the runner's."""

from __future__ import annotations

import asyncpg

from brigade_common.consumer import ConsumerSpec, Poison
from brigade_common.envelope import Envelope
from brigade_contracts import kitchen as k
from brigade_contracts import payments as p
from brigade_contracts import warehouse as w
from brigade_kitchen.adapters.repository import KitchenRepo
from brigade_kitchen.config import Settings
from brigade_kitchen.domain.orders import UnknownOrder
from brigade_kitchen.service import orders


def consumer_specs(settings: Settings) -> list[ConsumerSpec]:
    window = settings.payment_window_s

    async def on_warehouse(env: Envelope, conn: asyncpg.Connection) -> None:
        repo = KitchenRepo(conn)
        try:
            if env.type == w.SUPPLY_DELIVERED:
                await orders.apply_delivery(
                    repo, w.SupplyDelivered.model_validate(env.data), env, payment_window_s=window
                )
            elif env.type == w.SUPPLY_FAILED:
                await orders.apply_supply_failure(repo, w.SupplyFailed.model_validate(env.data), env)
            else:
                raise Poison(f"unexpected message type {env.type}")
        except UnknownOrder as exc:
            raise Poison(str(exc)) from exc

    async def on_payment(env: Envelope, conn: asyncpg.Connection) -> None:
        paid = p.PaymentSucceeded.model_validate(env.data)
        try:
            await orders.serve_paid_order(KitchenRepo(conn), paid.order_id, env)
        except UnknownOrder as exc:
            raise Poison(str(exc)) from exc

    async def on_expiry(env: Envelope, conn: asyncpg.Connection) -> None:
        due = k.OrderExpiryDue.model_validate(env.data)
        try:
            await orders.expire_order(KitchenRepo(conn), due, env)
        except UnknownOrder as exc:
            raise Poison(str(exc)) from exc

    ack_wait = settings.ack_wait_s
    return [
        ConsumerSpec(
            "kitchen-supply",
            "WAREHOUSE",
            (w.SUPPLY_DELIVERED, w.SUPPLY_FAILED),
            "kitchen",
            handler=on_warehouse,
            ack_wait_s=ack_wait,
        ),
        ConsumerSpec(
            "kitchen-payments", "PAYMENTS", (p.PAYMENT_SUCCEEDED,), "kitchen", handler=on_payment, ack_wait_s=ack_wait
        ),
        ConsumerSpec(
            "kitchen-expiry", "KITCHEN", (k.ORDER_EXPIRY_DUE,), "kitchen", handler=on_expiry, ack_wait_s=ack_wait
        ),
    ]
