"""The services `make up` runs: one row per service of the service catalog (brigade_common.catalog),
so a new service is run as soon as it is installed, with nothing to add here."""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from brigade_common.catalog import Catalog, load


@dataclass(frozen=True)
class ServiceSpec:
    """One Brigade process: `python -m <module> api`, plus `migrate` when it owns a schema and `seed`
    when it has demo data."""

    name: str
    module: str
    port: int
    has_database: bool = False
    has_seed: bool = False  # a `seed` command (demo data) to run after `migrate`
    public: bool = True  # reachable from the browser (through the gateway under its route prefixes)
    gateway: bool = False  # the local gateway: routes every other public service's prefixes to it
    prefix: str = ""  # its settings' environment prefix; default the upper-cased name and `_`
    smtp: bool = False  # sends mail: pointed at the mail catcher (its settings read SMTP_HOST/PORT)

    @property
    def env_prefix(self) -> str:
        return self.prefix or f"{self.name.upper()}_"

    @property
    def port_env(self) -> str:
        return f"{self.env_prefix}HTTP_PORT"


def service_table(catalog: Catalog | None = None) -> tuple[ServiceSpec, ...]:
    """The devstack's view of `catalog` (default: the installed services)."""
    return tuple(
        ServiceSpec(
            s.name,
            s.module,
            s.http_port,
            has_database=s.has_database,
            has_seed=s.seed is not None,
            public=bool(s.routes),
            gateway=s.gateway,
            prefix=s.env_prefix,
            smtp="smtp_host" in s.settings.model_fields,
        )
        for s in (installed() if catalog is None else catalog)
    )


@functools.cache
def installed() -> Catalog:
    """The installed services' catalog, loaded once per process."""
    return load()


def unavailable_reason(spec: ServiceSpec) -> str | None:
    """Why `python -m <module>` cannot run yet (None when it can); never imports the package."""
    try:
        found = importlib.util.find_spec(spec.module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        return f"package {spec.module} is not installed"
    locations = found.submodule_search_locations or []
    if not any((Path(loc) / "__main__.py").is_file() for loc in locations):
        return f"package {spec.module} has no __main__ yet"
    return None
