"""The services `make up` runs: one row each, so adding a service is a one-line change."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceSpec:
    """One Brigade process: `python -m <module> api`, plus `migrate` and `seed` when it owns a schema."""

    name: str
    module: str
    port: int
    has_database: bool = False
    public: bool = True  # reachable from the browser (through the gateway under /api/<name>)
    gateway: bool = False  # the local gateway: routes /api/<name> to every other public service

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def port_env(self) -> str:
        return f"{self.env_prefix}HTTP_PORT"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("kitchen", "brigade_kitchen", 8001, has_database=True),
    ServiceSpec("warehouse", "brigade_warehouse", 8002, has_database=True),
    ServiceSpec("market", "brigade_market", 8003),
    ServiceSpec("web", "brigade_web", 8080, gateway=True),
)


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
