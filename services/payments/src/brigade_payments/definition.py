"""The payments service, declared once for its process and for the service catalog
(brigade_common.catalog).

Tools import this module to learn what the service is, so it stays light: the app and its adapters
are imported only when a command runs. It has no seed data: payments come from customers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brigade_common.service import Route, ServiceDefinition
from brigade_contracts import streams
from brigade_payments.config import MIGRATIONS_DIR, SCHEMA, SERVICE, Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _app(settings: Settings) -> Starlette:
    from brigade_payments.bootstrap import create_app

    return create_app(settings)


PAYMENTS = ServiceDefinition(
    SERVICE,
    Settings,
    _app,
    routes=(Route("/api/payments"),),
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    streams=(streams.PAYMENTS, streams.KITCHEN, streams.DLQ),
    consumers=("payments-orders", "payments-refusals"),
)
