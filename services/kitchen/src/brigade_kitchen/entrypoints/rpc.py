"""The kitchen's request-reply endpoints (a `nats.micro` service): one order's current snapshot, for
a service whose replica has not heard of it yet (payments, when a customer pays right after the 201).

Read through the kitchen's read side, so it answers what `GET /orders/{id}` would show staff.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nats.aio.client import Client as NATS
from nats.micro import add_service
from nats.micro.service import Service

from brigade_common import rpc
from brigade_contracts import kitchen as k
from brigade_kitchen.service.ports import KitchenViews

SERVICE_NAME = "kitchen"
QUEUE = "kitchen"  # one replica answers each request


def order_get(views: KitchenViews) -> Callable[[k.OrderRequest], Awaitable[k.OrderSnapshot]]:
    async def get(req: k.OrderRequest) -> k.OrderSnapshot:
        order = await views.order(req.order_id)
        if order is None:
            raise rpc.RpcFailed("404", f"no order with id {req.order_id!r}")
        return k.OrderSnapshot(**vars(order))

    return get


async def serve_requests(nc: NATS, views: KitchenViews) -> Service:
    """Answer `rpc.kitchen.order.get` until the returned service is stopped."""
    service = await add_service(nc, name=SERVICE_NAME, version="1.0.0", description="The kitchen's orders, on request")
    await service.add_endpoint(
        name="order-get", subject=k.ORDER_GET, queue_group=QUEUE, handler=rpc.endpoint(k.OrderRequest, order_get(views))
    )
    # Two round trips: nats-py may send the first flush's PING ahead of the SUB (see the market).
    await nc.flush()
    await nc.flush()
    return service
