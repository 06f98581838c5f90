"""Warehouse's JetStream handler for supply commands: the payload becomes the command of the use case.

Ack, nak and dead-lettering are the common runner's. A command the contract refuses (a request id
that is not a UUID, a bad amount) is poison and goes to the dead-letter stream at once.
"""

from __future__ import annotations

from brigade_common.consumer import ConsumerSpec, Delivery
from brigade_common.envelope import Envelope
from brigade_common.messaging import MessageContext
from brigade_common.settings import ConsumerSettings
from brigade_contracts import warehouse as w
from brigade_warehouse.domain.errors import RequestSettled, UnknownSupplyRequest
from brigade_warehouse.service.commands import SupplyIngredient
from brigade_warehouse.service.warehouse import Warehouse

POISON: tuple[type[Exception], ...] = (UnknownSupplyRequest, RequestSettled)


def consumer_specs(warehouse: Warehouse, settings: ConsumerSettings) -> list[ConsumerSpec]:
    async def on_supply(env: Envelope, delivery: Delivery) -> None:
        msg = w.SupplyIngredient.model_validate(env.data)
        cmd = SupplyIngredient(msg.request_id, msg.order_id, msg.ingredient, msg.amount)
        await warehouse.supply(cmd, context=MessageContext.caused_by(env), progress=delivery)

    return [
        ConsumerSpec(
            "warehouse-supply",
            "WAREHOUSE",
            (w.SUPPLY_CMD,),
            "warehouse",
            handler=on_supply,
            long_running=True,
            poison=POISON,
            # Between market calls a command waits in the stock transactions' queue holding no
            # connection, and each of those transactions takes every command that waits.
            concurrency=64,
            **settings.consumer_options(),
        ),
    ]
