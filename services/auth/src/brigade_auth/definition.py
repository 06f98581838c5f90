"""The auth service, declared once for its process and for the service catalog (brigade_common.catalog).

Tools import this module to learn what auth is, so it stays light: the app, the adapters and the
demo users are imported only when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brigade_auth.config import MIGRATIONS_DIR, SCHEMA, SERVICE, Settings
from brigade_common.service import Route, ServiceDefinition
from brigade_contracts import streams

if TYPE_CHECKING:
    import asyncpg
    from starlette.applications import Starlette


def _app(settings: Settings) -> Starlette:
    from brigade_auth.adapters.passwords import one_malloc_arena
    from brigade_auth.bootstrap import create_app

    # The process's first act, before any thread: the hashing threads' buffers go back to the system.
    one_malloc_arena()
    return create_app(settings)


async def _seed(conn: asyncpg.Connection, settings: Settings) -> None:
    from brigade_auth.bootstrap import open_tools
    from brigade_auth.entrypoints.cli import provide_demo_users

    async with open_tools(settings) as auth:
        await provide_demo_users(auth, settings.demo_users)


AUTH = ServiceDefinition(
    SERVICE,
    Settings,
    _app,
    # The JWKS is also where every OpenID-style client looks for it.
    routes=(Route("/api/auth"), Route("/.well-known/jwks.json")),
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    seed=_seed,
    streams=(streams.AUTH,),
)
