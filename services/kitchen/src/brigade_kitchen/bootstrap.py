"""Wires the kitchen: runtime (database, NATS, outbox relay), its adapters, the use cases, the
consumers and the HTTP app. Nothing here decides anything; nothing opens at import time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette

from brigade_common.auth.keysource import LateConnection
from brigade_common.health import ReadinessChecks
from brigade_common.idempotency import purge_expired
from brigade_common.kv_cache import ReadThroughCache
from brigade_common.runtime import Runtime
from brigade_common.service_app import service_app
from brigade_kitchen.adapters.menu_cache import CODEC, CachedKitchenViews, KvMenuCache, count_read
from brigade_kitchen.adapters.unit_of_work import DELIVERIES_WAITING, ORDERS_WAITING, PostgresKitchenUnitOfWork
from brigade_kitchen.adapters.views import PostgresKitchenViews
from brigade_kitchen.adapters.waiters import NatsOrderWaiters
from brigade_kitchen.config import MENU_BUCKET, SERVICE, Settings
from brigade_kitchen.definition import KITCHEN
from brigade_kitchen.domain.model import Deadlines
from brigade_kitchen.entrypoints.consumers import TOGETHER, consumer_specs
from brigade_kitchen.entrypoints.dishes import api  # the kitchen's api, the menu's write routes declared
from brigade_kitchen.entrypoints.http import PROBLEMS
from brigade_kitchen.entrypoints.rpc import serve_requests
from brigade_kitchen.service.handlers import Deps
from brigade_kitchen.service.kitchen import Kitchen


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


@asynccontextmanager
async def open_kitchen(
    settings: Settings, readiness: ReadinessChecks | None = None, connection: LateConnection | None = None
) -> AsyncIterator[Kitchen]:
    """The kitchen with everything it runs on, until the context exits."""
    runtime = await Runtime.open(KITCHEN, settings, readiness)
    if connection is not None:
        connection.nc = runtime.nc  # the verifier asks the auth service for its keys over it
    waiters = NatsOrderWaiters()
    cache = ReadThroughCache[Any](
        MENU_BUCKET, settings.menu_cache_ttl_s, CODEC, replicas=settings.nats_replicas, on_read=count_read
    )
    try:
        await waiters.start(runtime.nc)
        if settings.menu_cache:
            await cache.start(runtime.nc)
        menu = KvMenuCache(cache) if settings.menu_cache else None
        kitchen = Kitchen(
            uow=PostgresKitchenUnitOfWork.factory(runtime.db, on_commit=runtime.notify_outbox),
            views=CachedKitchenViews(runtime.db, cache) if settings.menu_cache else PostgresKitchenViews(runtime.db),
            waiters=waiters,
            deps=Deps(
                clock=_now,
                new_id=_new_id,
                deadlines=Deadlines(supply_s=settings.supply_wait_s, payment_s=settings.payment_window_s),
            ),
            order_wait_s=settings.order_wait_s,
            max_concurrent_reservations=settings.max_concurrent_reservations,
            max_concurrent_deliveries=settings.max_concurrent_deliveries,
            max_deliveries_together=TOGETHER,
            menu_cache=menu,
        )
        ORDERS_WAITING.set_function(lambda: kitchen.orders_waiting)
        DELIVERIES_WAITING.set_function(lambda: kitchen.deliveries_waiting)
        await runtime.run_consumers(consumer_specs(kitchen, settings, menu))
        responder = await serve_requests(runtime.nc, kitchen.views)
        runtime.every(settings.idempotency_purge_s, lambda: purge_expired(runtime.db), "purge-idempotency-keys")
        runtime.every(settings.sweep_s, kitchen.settle_overdue, "settle-overdue-orders")
        try:
            yield kitchen
        finally:
            await responder.stop()
    finally:
        await cache.close()
        await waiters.stop()
        await runtime.close()


def create_app(settings: Settings) -> Starlette:
    return service_app(
        SERVICE,
        api,
        lambda readiness, connection: open_kitchen(settings, readiness, connection),
        state="kitchen",
        verifier=settings.jwt_verifier,
        problems=PROBLEMS,
    )
