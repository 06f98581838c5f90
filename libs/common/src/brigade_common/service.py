"""The standard commands of a service process: `python -m brigade_<svc> api|migrate|seed`.

A service's `__main__.py` describes itself once with `ServiceDefinition` and calls `run`; this is the
only place where settings are read from the environment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
import pydantic
from starlette.applications import Starlette

from brigade_common import cli
from brigade_common.logging import configure_logging
from brigade_common.migrations import upgrade
from brigade_common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


@dataclass(frozen=True)
class ServiceDefinition(Generic[S]):
    name: str
    settings: type[S]
    app_factory: Callable[[S], Starlette]
    schema: str | None = None
    migrations_dir: Path | None = None
    seed: Callable[[asyncpg.Connection, S], Awaitable[None]] | None = None


def _database_url(settings: Any) -> str:
    url: str = settings.database_url.get_secret_value()
    return url


def settings_error(cls: type[ServiceSettings], exc: pydantic.ValidationError) -> str:
    """One line per missing or invalid setting, named as its environment variable."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    lines = [f"{defn_name(cls)}: invalid settings"]
    for err in exc.errors(include_url=False):
        name = (prefix + "_".join(str(p) for p in err["loc"])).upper()
        lines.append(f"  {name}: {err['msg']}")
    return "\n".join(lines)


def defn_name(cls: type[ServiceSettings]) -> str:
    return cls.__module__.split(".")[0]


def commands(defn: ServiceDefinition[S]) -> dict[str, cli.Command]:
    def load() -> S:
        try:
            settings = defn.settings()
        except pydantic.ValidationError as exc:
            raise SystemExit(settings_error(defn.settings, exc)) from None
        configure_logging(defn.name, settings.log_format, settings.log_level)
        return settings

    def api() -> None:
        """Serve HTTP and run the JetStream consumers."""
        settings = load()
        cli.serve(
            lambda: defn.app_factory(settings),
            host=settings.http_host,
            port=settings.http_port,
            log_level=settings.log_level,
        )

    out: dict[str, cli.Command] = {"api": api}
    if defn.schema and defn.migrations_dir:
        schema, migrations_dir = defn.schema, defn.migrations_dir

        def migrate() -> None:
            """Migrate the service's schema to the latest revision."""
            upgrade(migrations_dir, _database_url(load()), schema)

        out["migrate"] = migrate
    if defn.schema and defn.seed:
        schema, seed = defn.schema, defn.seed

        def seed_command() -> None:
            """Load the demo data (idempotent)."""
            settings = load()

            async def go() -> None:
                conn = await asyncpg.connect(_database_url(settings), server_settings={"search_path": schema})
                try:
                    await seed(conn, settings)
                finally:
                    await conn.close()

            asyncio.run(go())

        out["seed"] = seed_command
    return out


def run(defn: ServiceDefinition[S], argv: Sequence[str] | None = None) -> int:
    """Dispatch `python -m brigade_<svc> <command>`."""
    return cli.main(commands(defn), argv)
