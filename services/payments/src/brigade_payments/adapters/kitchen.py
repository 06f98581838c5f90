"""The kitchen, asked by request-reply (`rpc.kitchen.order.get`, a `nats.micro` endpoint) for an
order the replica has not heard of: seed 003's existence check, without a connection per request."""

from __future__ import annotations

from nats.aio.client import Client as NATS

from brigade_common import rpc
from brigade_contracts import kitchen as k
from brigade_payments.domain.errors import KitchenUnavailable
from brigade_payments.domain.model import OrderState


class NatsKitchen:
    def __init__(self, nc: NATS, timeout_s: float) -> None:
        self._nc = nc
        self._timeout_s = timeout_s

    async def order(self, order_id: str) -> OrderState | None:
        try:
            reply = await rpc.call(
                self._nc, k.ORDER_GET, k.OrderRequest(order_id=order_id), k.OrderSnapshot, timeout=self._timeout_s
            )
        except rpc.RpcFailed as exc:
            if exc.code == "404":
                return None
            raise KitchenUnavailable(f"the kitchen could not answer for order {order_id}: {exc}") from None
        except rpc.RpcError as exc:
            raise KitchenUnavailable(f"the kitchen did not answer for order {order_id}: {exc}") from None
        return OrderState(reply.order_id, reply.customer_id, reply.total_cents, reply.status, reply.version)
