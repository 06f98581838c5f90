"""The resolved plan for one `up`: ports, which services run, and each one's environment."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from brigade_devstack.catalog import ServiceSpec, unavailable_reason
from brigade_devstack.demo_users import AUTH_SERVICE
from brigade_devstack.errors import DevstackError
from brigade_devstack.layout import Layout
from brigade_devstack.mailcatcher import DEFAULT_PORT as MAIL_PORT
from brigade_devstack.mailcatcher import PORT_ENV as MAIL_PORT_ENV
from brigade_devstack.ports import HOST, PortClaim
from brigade_devstack.process import Command

PG_PORT_ENV = "BRIGADE_PG_PORT"
NATS_PORT_ENV = "BRIGADE_NATS_PORT"
# A NATS cluster of this many servers instead of one (client ports from BRIGADE_NATS_PORT up, route
# ports from BRIGADE_NATS_ROUTE_PORT up), with every stream on three of them.
NATS_NODES_ENV = "BRIGADE_NATS_NODES"
NATS_ROUTE_PORT_ENV = "BRIGADE_NATS_ROUTE_PORT"
NATS_CLUSTER_SIZES = (1, 3, 5)
EXTERNAL_NATS_ENV = "NATS_URL"
DATABASE = "brigade"
# `<PREFIX>REPLICAS` (KITCHEN_REPLICAS=2): that many processes of the service, sharing its port.
REPLICAS_SETTING = "REPLICAS"
MAX_REPLICAS = 8
# Each replica also has a port of its own (its /readyz, /metrics), consecutive from this one.
REPLICA_PORT_ENV = "BRIGADE_REPLICA_PORT"
DEFAULT_REPLICA_PORT = 18001


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise DevstackError(f"{name} must be a TCP port number (1-65535), got {raw!r}")
    return port


@dataclass(frozen=True)
class Instance:
    """One process of a service: `kitchen`, or `kitchen-2` of several sharing the service's port."""

    name: str
    own_port: int = 0  # a port of its own besides the shared one (0: it is the service's only process)


@dataclass(frozen=True)
class PlannedService:
    spec: ServiceSpec
    port: int
    replicas: tuple[Instance, ...] = ()  # when it runs as several processes

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def instances(self) -> tuple[Instance, ...]:
        """Its processes: the replicas, or the service itself as its one process."""
        return self.replicas or (Instance(self.name),)

    def ready_url(self, instance: Instance) -> str:
        """Where `instance` alone answers /readyz (the shared port would answer for any replica)."""
        return f"http://{HOST}:{instance.own_port or self.port}/readyz"


@dataclass(frozen=True)
class StackConfig:
    layout: Layout
    pg_port: int
    nats_port: int
    external_nats_url: str | None
    services: tuple[PlannedService, ...]
    skipped: tuple[tuple[ServiceSpec, str], ...] = ()
    mail_port: int = MAIL_PORT
    nats_nodes: int = 1
    nats_route_port: int = 6222

    @property
    def nats_client_ports(self) -> tuple[int, ...]:
        return tuple(self.nats_port + i for i in range(self.nats_nodes))

    @property
    def nats_route_ports(self) -> tuple[int, ...]:
        return tuple(self.nats_route_port + i for i in range(self.nats_nodes)) if self.nats_nodes > 1 else ()

    @property
    def nats_url(self) -> str:
        return self.external_nats_url or ",".join(f"nats://{HOST}:{p}" for p in self.nats_client_ports)

    @property
    def nats_replicas(self) -> int:
        """Each stream on three servers of a cluster (a majority survives one loss), on the one otherwise."""
        return 1 if self.external_nats_url or self.nats_nodes == 1 else 3

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.pg_port}/{DATABASE}"

    @property
    def admin_database_url(self) -> str:
        """The database that always exists, to create the others from."""
        return f"postgresql://postgres@{HOST}:{self.pg_port}/postgres"

    @property
    def gateway(self) -> PlannedService | None:
        return next((s for s in self.services if s.spec.gateway), None)

    def port_claims(self) -> list[PortClaim]:
        claims = [PortClaim(self.pg_port, "PostgreSQL", PG_PORT_ENV)]
        if not self.external_nats_url:
            claims += [PortClaim(p, "nats-server", NATS_PORT_ENV) for p in self.nats_client_ports]
            claims += [PortClaim(p, "nats-server's cluster routes", NATS_ROUTE_PORT_ENV) for p in self.nats_route_ports]
        claims.append(PortClaim(self.mail_port, "the mail catcher", MAIL_PORT_ENV))
        claims += [PortClaim(s.port, s.name, s.spec.port_env) for s in self.services]
        claims += [PortClaim(r.own_port, r.name, REPLICA_PORT_ENV) for s in self.services for r in s.replicas]
        return claims

    @property
    def process_names(self) -> list[str]:
        """Every name the console shows: each service (its migrations, seeds) and each of its processes."""
        return list(dict.fromkeys(n for s in self.services for n in (s.name, *(i.name for i in s.instances))))

    def upstreams(self) -> dict[str, str]:
        """component → base URL of every public API the gateway routes to."""
        return {s.name: s.base_url for s in self.services if s.spec.public and not s.spec.gateway}

    @property
    def auth(self) -> PlannedService | None:
        """The auth service: it signs the tokens every other service verifies with its keys."""
        return next((s for s in self.services if s.name == AUTH_SERVICE), None)

    def environment(
        self,
        svc: PlannedService,
        base: Mapping[str, str],
        demo_users: str | None = None,
        instance: Instance | None = None,
    ) -> dict[str, str]:
        prefix = svc.spec.env_prefix
        instance = instance or Instance(svc.name)  # a one-shot command (migrate, seed) is no replica
        env = dict(base)
        env.setdefault(f"{prefix}LOG_FORMAT", "console")
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                f"{prefix}HTTP_HOST": HOST,
                f"{prefix}HTTP_PORT": str(svc.port),
                f"{prefix}NATS_URL": self.nats_url,
                f"{prefix}NATS_REPLICAS": str(self.nats_replicas),
                f"{prefix}INSTANCE": instance.name,
            }
        )
        if instance.own_port:
            env.update({f"{prefix}HTTP_REUSE_PORT": "true", f"{prefix}HTTP_INSTANCE_PORT": str(instance.own_port)})
        if svc.spec.has_database:
            env[f"{prefix}DATABASE_URL"] = self.database_url
        # No key file: every service asks the auth service for its keys over NATS.
        if svc.name == AUTH_SERVICE and demo_users is not None:
            env[f"{prefix}DEMO_USERS"] = demo_users
        if svc.spec.smtp:
            env.update({f"{prefix}SMTP_HOST": HOST, f"{prefix}SMTP_PORT": str(self.mail_port)})
        if svc.spec.gateway:
            env[f"{prefix}UPSTREAMS"] = json.dumps(self.upstreams())
            env[f"{prefix}ROUTES_FILE"] = str(self.layout.routes_file)
            env[f"{prefix}STATIC_DIR"] = str(self.layout.static_dir)
        return env

    def command(
        self,
        svc: PlannedService,
        verb: str,
        base: Mapping[str, str],
        demo_users: str | None = None,
        instance: Instance | None = None,
    ) -> Command:
        """`python -m <module> <verb>` for `svc` (named after `instance` when given), run from the
        repository root."""
        return Command(
            name=instance.name if instance else svc.name,
            argv=[sys.executable, "-m", svc.spec.module, verb],
            env=self.environment(svc, base, demo_users, instance),
            cwd=self.layout.root,
        )

    def api_commands(
        self, svc: PlannedService, base: Mapping[str, str], demo_users: str | None = None
    ) -> list[Command]:
        """`python -m <module> api` once per process of `svc`; its migrations and seed run once, before."""
        return [self.command(svc, "api", base, demo_users, instance) for instance in svc.instances]


def resolve(
    layout: Layout,
    table: Sequence[ServiceSpec],
    environ: Mapping[str, str],
    unavailable: Callable[[ServiceSpec], str | None] = unavailable_reason,
) -> StackConfig:
    """Apply the environment's port overrides to the table and drop services that cannot run yet."""
    services: list[PlannedService] = []
    skipped: list[tuple[ServiceSpec, str]] = []
    next_own_port = _port(environ, REPLICA_PORT_ENV, DEFAULT_REPLICA_PORT)
    for spec in table:
        reason = unavailable(spec)
        if reason:
            skipped.append((spec, reason))
            continue
        count = _replicas(environ, spec)
        replicas: tuple[Instance, ...] = ()
        if count > 1:
            replicas = tuple(Instance(f"{spec.name}-{i + 1}", next_own_port + i) for i in range(count))
            next_own_port += count
            if next_own_port > 65536:
                raise DevstackError(f"{REPLICA_PORT_ENV} is too high for {count} replicas of {spec.name}")
        services.append(PlannedService(spec, _port(environ, spec.port_env, spec.port), replicas))
    return StackConfig(
        layout=layout,
        pg_port=_port(environ, PG_PORT_ENV, 5433),
        nats_port=_port(environ, NATS_PORT_ENV, 4222),
        external_nats_url=environ.get(EXTERNAL_NATS_ENV) or None,
        services=tuple(services),
        skipped=tuple(skipped),
        mail_port=_port(environ, MAIL_PORT_ENV, MAIL_PORT),
        nats_nodes=_cluster_size(environ),
        nats_route_port=_port(environ, NATS_ROUTE_PORT_ENV, 6222),
    )


def _replicas(environ: Mapping[str, str], spec: ServiceSpec) -> int:
    name = f"{spec.env_prefix}{REPLICAS_SETTING}"
    raw = environ.get(name, "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_REPLICAS:
        raise DevstackError(f"{name} must be a number of processes from 1 to {MAX_REPLICAS}, got {raw!r}")
    return int(raw)


def _cluster_size(environ: Mapping[str, str]) -> int:
    raw = environ.get(NATS_NODES_ENV, "").strip() or "1"
    if raw not in {str(n) for n in NATS_CLUSTER_SIZES}:
        sizes = ", ".join(map(str, NATS_CLUSTER_SIZES))
        raise DevstackError(f"{NATS_NODES_ENV} must be one of {sizes} (a cluster needs a majority), got {raw!r}")
    return int(raw)
