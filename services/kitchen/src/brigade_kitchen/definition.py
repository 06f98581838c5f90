"""The kitchen, declared once for its process and for the service catalog (brigade_common.catalog).

Tools import this module to learn what the kitchen is, so it stays light: the app, the adapters and
the seed data are imported only when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brigade_common.service import Route, ServiceDefinition
from brigade_contracts import streams
from brigade_kitchen.config import MENU_BUCKET, MIGRATIONS_DIR, SCHEMA, SERVICE, Settings

if TYPE_CHECKING:
    import asyncpg
    from starlette.applications import Starlette


def _app(settings: Settings) -> Starlette:
    from brigade_kitchen.bootstrap import create_app

    return create_app(settings)


async def _seed(conn: asyncpg.Connection, settings: Settings) -> None:
    from brigade_kitchen.adapters.seed import seed

    await seed(conn)


KITCHEN = ServiceDefinition(
    SERVICE,
    Settings,
    _app,
    routes=(Route("/api/kitchen"),),
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    seed=_seed,
    streams=(streams.KITCHEN, streams.WAREHOUSE, streams.PAYMENTS, streams.DLQ),
    consumers=("kitchen-menu-cache", "kitchen-supply", "kitchen-purchases", "kitchen-payments", "kitchen-expiry"),
    buckets=(MENU_BUCKET,),
)
