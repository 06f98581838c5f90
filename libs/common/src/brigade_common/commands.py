"""The standard commands of a service process: `python -m brigade_<svc> api|migrate|seed`.

A service's `__main__.py` calls `run` with its `ServiceDefinition`; this is the only place where
settings are read from the environment. `migrate` and `seed` are public for the test harnesses,
which prepare databases in-process exactly as these commands do.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Sequence
from typing import Any, TypeVar

import asyncpg
import pydantic
from starlette.applications import Starlette

from brigade_common import cli
from brigade_common.logging import configure_logging
from brigade_common.service import ServiceDefinition
from brigade_common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def _database_url(settings: Any) -> str:
    url: str = settings.database_url.get_secret_value()
    return url


def settings_error(cls: type[ServiceSettings], exc: pydantic.ValidationError) -> str:
    """One line per missing or invalid setting, named as its environment variable."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    lines = [f"{cls.__module__.split('.')[0]}: invalid settings"]
    for err in exc.errors(include_url=False):
        name = (prefix + "_".join(str(p) for p in err["loc"])).upper()
        lines.append(f"  {name}: {err['msg']}")
    return "\n".join(lines)


def migrate(defn: ServiceDefinition[Any], database_url: str) -> None:
    """Migrate the service's schema to its latest revision (nothing for a service without one)."""
    if defn.schema and defn.migrations_dir:
        # alembic and SQLAlchemy cost a service process about 25 MiB: only `migrate` loads them.
        from brigade_common.migrations import upgrade

        upgrade(defn.migrations_dir, database_url, defn.schema)


async def seed(defn: ServiceDefinition[S], settings: S, database_url: str) -> None:
    """Load the service's demo data into its schema (idempotent; nothing for a service without any)."""
    if not (defn.schema and defn.seed):
        return
    conn = await asyncpg.connect(database_url, server_settings={"search_path": defn.schema})
    try:
        await defn.seed(conn, settings)
    finally:
        await conn.close()


def commands(defn: ServiceDefinition[S]) -> dict[str, cli.Command]:
    """The commands `defn` has: always `api`; `migrate` and `seed` when it owns them."""

    def load() -> S:
        try:
            settings = defn.settings()
        except pydantic.ValidationError as exc:
            raise SystemExit(settings_error(defn.settings, exc)) from None
        configure_logging(defn.name, settings.log_format, settings.log_level)
        return settings

    def api() -> None:
        """Serve HTTP (and run the JetStream consumers, if it has any)."""
        settings = load()
        instance = settings.instance or f"{socket.gethostname()}-{os.getpid()}"

        def app() -> Starlette:
            built = defn.app_factory(settings)
            built.state.instance = instance  # /readyz says which replica answered
            return built

        cli.serve(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level=settings.log_level,
            reuse_port=settings.http_reuse_port,
            instance_port=settings.http_instance_port,
        )

    def migrate_command() -> None:
        """Migrate the service's schema to the latest revision."""
        migrate(defn, _database_url(load()))

    def seed_command() -> None:
        """Load the demo data (idempotent)."""
        settings = load()
        asyncio.run(seed(defn, settings, _database_url(settings)))

    out: dict[str, cli.Command] = {"api": api}
    if defn.schema and defn.migrations_dir:
        out["migrate"] = migrate_command
    if defn.schema and defn.seed:
        out["seed"] = seed_command
    return out


def run(defn: ServiceDefinition[S], argv: Sequence[str] | None = None) -> int:
    """Dispatch `python -m brigade_<svc> <command>`."""
    return cli.main(commands(defn), argv)
