"""The market, reached over NATS request-reply (`market.buy`, a `nats.micro` service)."""

from __future__ import annotations

import nats.errors
from nats.aio.client import Client as NATS

from brigade_common import rpc
from brigade_contracts import market as m
from brigade_warehouse.domain.errors import MarketUnavailable
from brigade_warehouse.service.ports import Bought


class NatsMarket:
    def __init__(self, nc: NATS) -> None:
        self._nc = nc

    async def buy(self, ingredient: str, amount: int, timeout_s: float) -> Bought:
        try:
            reply = await rpc.call(
                self._nc, m.BUY, m.BuyRequest(ingredient=ingredient, amount=amount), m.BuyReply, timeout=timeout_s
            )
        except (rpc.RpcError, nats.errors.Error) as exc:
            raise MarketUnavailable(str(exc)) from exc
        return Bought(reply.amount, reply.supplier)
