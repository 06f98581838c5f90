"""Wires the payments service: runtime (database, NATS, outbox relay), its adapters, the use cases,
the consumers, the sweeps and the HTTP app. Nothing here decides anything; nothing opens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette

from brigade_common.auth.keysource import LateConnection
from brigade_common.health import ReadinessChecks
from brigade_common.idempotency import purge_expired
from brigade_common.runtime import Runtime
from brigade_common.service_app import service_app
from brigade_payments.adapters.kitchen import NatsKitchen
from brigade_payments.adapters.sandbox import SandboxProvider
from brigade_payments.adapters.unit_of_work import PostgresPaymentsUnitOfWork
from brigade_payments.adapters.views import PostgresPaymentsViews
from brigade_payments.config import SERVICE, Settings
from brigade_payments.definition import PAYMENTS
from brigade_payments.entrypoints.consumers import consumer_specs
from brigade_payments.entrypoints.http import PROBLEMS, api
from brigade_payments.service.charges import Deps
from brigade_payments.service.payments import Cashier


def _now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def open_cashier(
    settings: Settings, readiness: ReadinessChecks | None = None, connection: LateConnection | None = None
) -> AsyncIterator[Cashier]:
    """The payments service with everything it runs on, until the context exits."""
    runtime = await Runtime.open(PAYMENTS, settings, readiness)
    if connection is not None:
        connection.nc = runtime.nc  # the verifier asks the auth service for its keys over it
    try:
        views = PostgresPaymentsViews(runtime.db)
        cashier = Cashier(
            uow=PostgresPaymentsUnitOfWork.factory(runtime.db, on_commit=runtime.notify_outbox),
            views=views,
            deps=Deps(
                clock=_now,
                provider=SandboxProvider(settings.sandbox_latency_ms / 1000),
                kitchen=NatsKitchen(runtime.nc, settings.kitchen_timeout_s),
                views=views,
            ),
            stuck_after_s=settings.stuck_after_s,
        )
        await runtime.run_consumers(consumer_specs(cashier, settings))
        runtime.every(settings.idempotency_purge_s, lambda: purge_expired(runtime.db), "purge-idempotency-keys")
        runtime.every(settings.sweep_s, cashier.settle_stuck, "settle-stuck-payments")
        yield cashier
    finally:
        await runtime.close()


def create_app(settings: Settings) -> Starlette:
    return service_app(
        SERVICE,
        api,
        lambda readiness, connection: open_cashier(settings, readiness, connection),
        state="cashier",
        verifier=settings.jwt_verifier,
        problems=PROBLEMS,
    )
