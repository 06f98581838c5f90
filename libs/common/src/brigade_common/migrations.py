"""Alembic, run programmatically, with the version table inside the service's own schema.

A service's `migrations/env.py` is just `from brigade_common.migrations import run_env; run_env()`.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from brigade_common.db import check_identifier
from brigade_common.revisions import VERSION_TABLE, current_revision, head_revision

__all__ = [
    "VERSION_TABLE",
    "current_revision",
    "execute_script",
    "head_revision",
    "run_env",
    "upgrade",
    "upgrade_async",
]


def execute_script(sql: str) -> None:
    """Run a multi-statement SQL script inside a migration.

    The asyncpg dialect prepares every statement and a prepared statement holds one command, so the
    script is split on semicolons that end a line (Brigade's DDL keeps them nowhere else).
    """
    from alembic import op

    for statement in re.split(r";\s*$", sql, flags=re.MULTILINE):
        if statement.strip():
            op.execute(statement)


def alembic_config(script_location: Path, database_url: str, schema: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["database_url"] = database_url
    cfg.attributes["schema"] = check_identifier(schema)
    return cfg


def upgrade(script_location: Path, database_url: str, schema: str, revision: str = "head") -> None:
    """Migrate the schema to `revision` (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(script_location, database_url, schema), revision)


async def upgrade_async(script_location: Path, database_url: str, schema: str) -> None:
    await asyncio.to_thread(upgrade, script_location, database_url, schema)


def _sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def run_env() -> None:
    """Body of every service's alembic env.py (online mode only)."""
    cfg = context.config
    url: str = cfg.attributes["database_url"]
    schema: str = cfg.attributes["schema"]

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            version_table_schema=schema,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(_sqlalchemy_url(url), poolclass=pool.NullPool)
        async with engine.connect() as conn:
            # Two replicas starting at once must not both migrate: serialise on a lock per schema.
            await conn.execute(text("SELECT pg_advisory_lock(hashtext(:s))"), {"s": f"migrate:{schema}"})
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.execute(text(f'SET search_path TO "{schema}"'))
            await conn.commit()
            await conn.run_sync(do_run)
            await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:s))"), {"s": f"migrate:{schema}"})
            await conn.commit()
        await engine.dispose()

    asyncio.run(run())
