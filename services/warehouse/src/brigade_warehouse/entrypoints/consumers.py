"""Warehouse's JetStream handler for supply commands."""

from __future__ import annotations

import asyncio

from brigade_common import rpc
from brigade_common.consumer import ConsumerSpec, Delivery
from brigade_common.envelope import Envelope
from brigade_common.runtime import Runtime
from brigade_contracts import market as m
from brigade_contracts import warehouse as w
from brigade_warehouse.config import Settings
from brigade_warehouse.service.supply import supply


def consumer_specs(settings: Settings, rt: Runtime) -> list[ConsumerSpec]:

    async def market(ingredient: str, amount: int, timeout: float) -> m.BuyReply:
        return await rpc.call(
            rt.nc, m.BUY, m.BuyRequest(ingredient=ingredient, amount=amount), m.BuyReply, timeout=timeout
        )

    async def pause() -> None:
        await asyncio.sleep(settings.market_retry_s)

    async def on_supply(env: Envelope, delivery: Delivery) -> None:
        # The contract requires a UUID request id (it keys a uuid column): anything else is poison.
        cmd = w.SupplyIngredient.model_validate(env.data)
        await supply(
            cmd,
            env,
            delivery,
            pool=rt.db,
            market=market,
            deadline_s=settings.supply_deadline_s,
            market_timeout_s=settings.market_timeout_s,
            on_commit=rt.notify_outbox,
            pause=pause,
        )

    return [
        ConsumerSpec(
            "warehouse-supply",
            "WAREHOUSE",
            (w.SUPPLY_CMD,),
            "warehouse",
            long_handler=on_supply,
            ack_wait_s=settings.ack_wait_s,
        ),
    ]
