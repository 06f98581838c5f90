"""`python -m brigade_warehouse api|migrate|seed`."""

from __future__ import annotations

import sys

import asyncpg

from brigade_common.service import ServiceDefinition, run
from brigade_warehouse.config import MIGRATIONS_DIR, SCHEMA, SERVICE, Settings


def _app(settings: Settings):  # type: ignore[no-untyped-def]
    from brigade_warehouse.bootstrap import create_app

    return create_app(settings)


async def _seed(conn: asyncpg.Connection, settings: Settings) -> None:
    from brigade_warehouse.adapters.seed import seed

    await seed(conn)


WAREHOUSE = ServiceDefinition(SERVICE, Settings, _app, SCHEMA, MIGRATIONS_DIR, _seed)

if __name__ == "__main__":
    sys.exit(run(WAREHOUSE))
