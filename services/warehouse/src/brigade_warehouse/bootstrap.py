"""Wires the warehouse: runtime (database, NATS, outbox relay), its adapters, the supply use case,
the consumer and the HTTP app. Nothing here decides anything; nothing opens at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette

from brigade_common.auth.keysource import LateConnection
from brigade_common.health import ReadinessChecks
from brigade_common.runtime import Runtime
from brigade_common.service_app import service_app
from brigade_warehouse.adapters.market import NatsMarket
from brigade_warehouse.adapters.unit_of_work import SUPPLIES_WAITING, PostgresWarehouseUnitOfWork
from brigade_warehouse.adapters.views import PostgresWarehouseViews
from brigade_warehouse.config import SERVICE, Settings
from brigade_warehouse.definition import WAREHOUSE
from brigade_warehouse.entrypoints.consumers import consumer_specs
from brigade_warehouse.entrypoints.http import api
from brigade_warehouse.service.handlers import Deps
from brigade_warehouse.service.warehouse import Warehouse


def _now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def open_warehouse(
    settings: Settings, readiness: ReadinessChecks | None = None, connection: LateConnection | None = None
) -> AsyncIterator[Warehouse]:
    """The warehouse with everything it runs on, until the context exits."""
    runtime = await Runtime.open(WAREHOUSE, settings, readiness)
    if connection is not None:
        connection.nc = runtime.nc  # the verifier asks the auth service for its keys over it

    async def pause() -> None:
        await asyncio.sleep(settings.market_retry_s)

    try:
        warehouse = Warehouse(
            uow=PostgresWarehouseUnitOfWork.factory(runtime.db, on_commit=runtime.notify_outbox),
            views=PostgresWarehouseViews(runtime.db),
            deps=Deps(
                clock=_now,
                market=NatsMarket(runtime.nc),
                pause=pause,
                deadline_s=settings.supply_deadline_s,
                market_timeout_s=settings.market_timeout_s,
            ),
            max_concurrent_stock_transactions=settings.max_concurrent_stock_transactions,
        )
        SUPPLIES_WAITING.set_function(lambda: warehouse.supplies_waiting)
        await runtime.run_consumers(consumer_specs(warehouse, settings))
        yield warehouse
    finally:
        await runtime.close()


def create_app(settings: Settings) -> Starlette:
    return service_app(
        SERVICE,
        api,
        lambda readiness, connection: open_warehouse(settings, readiness, connection),
        state="warehouse",
        verifier=settings.jwt_verifier,
    )
