"""What a Brigade service is, declared once in its own folder: `brigade_<svc>/definition.py`.

The service's `__main__.py` runs the declaration (`brigade_common.commands.run`); the service
catalog (`brigade_common.catalog`) collects every declaration to derive the devstack, the e2e harness,
the route table, the chart's view of each service and the image builds. The catalog imports every
declaration, so a definition module stays light: the app is imported only inside `app_factory`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from brigade_common.settings import ServiceSettings

if TYPE_CHECKING:
    import asyncpg
    from starlette.applications import Starlette

    from brigade_contracts.streams import StreamSpec

S = TypeVar("S", bound=ServiceSettings)

# The chart's component names (values.schema.json) and Kubernetes object names allow no more.
NAME = re.compile(r"^[a-z][a-z0-9-]*$")


class DefinitionError(ValueError):
    """A service declaration contradicts itself; the message names the service and the field."""


@dataclass(frozen=True)
class Route:
    """A public path prefix the service answers under, through the Ingress and the local gateway.

    Prefixes follow Kubernetes `pathType: Prefix`: whole path segments, and nothing is rewritten,
    so the service serves its routes under the prefix itself (`/api/kitchen/dishes`).
    """

    prefix: str
    # Long-lived connections: the chart gives them an Ingress of their own with long proxy timeouts.
    websocket: bool = False


@dataclass(frozen=True)
class ServiceDefinition(Generic[S]):
    """One service: everything the processes, the tools and the deployment need to know about it."""

    name: str
    settings: type[S]
    app_factory: Callable[[S], Starlette]
    _: KW_ONLY
    # The package run as `python -m <module>`; default: the settings class's top-level package.
    module: str = ""
    # The port it listens on locally (`make up`); default: the settings class's `http_port` default.
    http_port: int = 0
    routes: tuple[Route, ...] = ()
    # The PostgreSQL schema it owns, its alembic folder and its idempotent demo data.
    schema: str | None = None
    migrations_dir: Path | None = None
    seed: Callable[[asyncpg.Connection, S], Awaitable[None]] | None = None
    # The JetStream streams it provisions at start-up and the durable consumers it owns.
    streams: tuple[StreamSpec, ...] = ()
    consumers: tuple[str, ...] = ()
    # The JetStream key-value buckets it keeps (each a stream `KV_<bucket>`), a cache say.
    buckets: tuple[str, ...] = ()
    # Its container image (services/<name>/Dockerfile); default: brigade-<name>.
    image: str = ""
    # The local gateway: serves `/` and routes every other service's prefixes to it.
    gateway: bool = False
    nats: bool = True

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name):
            raise DefinitionError(f"service name {self.name!r} must match {NAME.pattern}")
        if not self.module:
            object.__setattr__(self, "module", self.settings.__module__.split(".")[0])
        if not self.http_port:
            object.__setattr__(self, "http_port", int(self.settings.model_fields["http_port"].default))
        if not self.image:
            object.__setattr__(self, "image", f"brigade-{self.name}")
        for route in self.routes:
            if not route.prefix.startswith("/") or (route.prefix != "/" and route.prefix.endswith("/")):
                raise DefinitionError(
                    f"{self.name}: route prefix {route.prefix!r} must start with '/' and not end with it"
                )
        if (self.migrations_dir or self.seed) and not self.schema:
            raise DefinitionError(f"{self.name}: migrations and seed need the schema they belong to")
        if len(set(self.consumers)) != len(self.consumers):
            raise DefinitionError(f"{self.name}: a durable consumer is listed twice in {self.consumers}")

    @property
    def env_prefix(self) -> str:
        """The prefix of its settings' environment variables (`KITCHEN_`)."""
        return str(self.settings.model_config.get("env_prefix", "")).upper()

    @property
    def has_database(self) -> bool:
        return self.schema is not None

    @property
    def jwt(self) -> bool:
        """Whether it verifies bearer tokens: its settings read the JWKS (`JwtSettings`)."""
        return "jwt_public_keys" in self.settings.model_fields
