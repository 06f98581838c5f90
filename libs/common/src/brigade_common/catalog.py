"""The service catalog: every Brigade service's declaration, found through Python entry points.

A service registers itself in its own `pyproject.toml`:

    [project.entry-points."brigade.services"]
    kitchen = "brigade_kitchen.definition:KITCHEN"

so the library never names a service: installing the package is what puts it in the catalog. The
devstack, the e2e harness and `make catalog` (the route table, the charts' view of each service,
the Skaffold artifacts) all read it from here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from brigade_common.service import Route, ServiceDefinition

ENTRY_POINT_GROUP = "brigade.services"


class CatalogError(Exception):
    """The catalog cannot be built: a declaration is missing, broken, or clashes with another."""


@dataclass(frozen=True)
class Catalog:
    """Every service, sorted by name."""

    services: tuple[ServiceDefinition[Any], ...]

    def __iter__(self) -> Iterator[ServiceDefinition[Any]]:
        return iter(self.services)

    def __len__(self) -> int:
        return len(self.services)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.services]

    def get(self, name: str) -> ServiceDefinition[Any]:
        for service in self.services:
            if service.name == name:
                return service
        raise CatalogError(f"no service {name!r} in the catalog (it has {', '.join(self.names) or 'none'})")

    @property
    def gateway(self) -> ServiceDefinition[Any] | None:
        return next((s for s in self.services if s.gateway), None)

    @property
    def backends(self) -> list[ServiceDefinition[Any]]:
        """Every service but the gateway: what an end-to-end stack runs behind it."""
        return [s for s in self.services if not s.gateway]

    @property
    def with_database(self) -> list[ServiceDefinition[Any]]:
        return [s for s in self.services if s.has_database]

    def routes(self) -> list[tuple[Route, ServiceDefinition[Any]]]:
        """Every public route with its service, the most specific first (`route_order`)."""
        pairs = [(route, s) for s in self.services for route in s.routes]
        return sorted(pairs, key=lambda pair: route_order(pair[0]))


def route_order(route: Route) -> tuple[int, str]:
    """Sort key of a route table: more path segments first, then by prefix (`/` comes last)."""
    return (-len(route.prefix.strip("/").split("/")), route.prefix)


def build(definitions: Iterable[ServiceDefinition[Any]]) -> Catalog:
    """A catalog of `definitions`, refused with every clash listed (names, ports, routes, images,
    consumers, streams declared two ways, more than one gateway)."""
    services = tuple(sorted(definitions, key=lambda s: s.name))
    problems: list[str] = []

    def unique(what: str, keys: Iterable[tuple[object, ServiceDefinition[Any]]]) -> None:
        owners: dict[object, list[str]] = defaultdict(list)
        for key, service in keys:
            owners[key].append(f"{service.name} ({service.module})")
        problems.extend(
            f"{what} {key!r} is claimed by {' and '.join(names)}" for key, names in owners.items() if len(names) > 1
        )

    unique("service name", ((s.name, s) for s in services))
    unique("HTTP port", ((s.http_port, s) for s in services))
    unique("route prefix", ((r.prefix, s) for s in services for r in s.routes))
    unique("image", ((s.image, s) for s in services))
    unique("durable consumer", ((c, s) for s in services for c in s.consumers))
    unique("key-value bucket", ((b, s) for s in services for b in s.buckets))
    gateways = [s.name for s in services if s.gateway]
    if len(gateways) > 1:
        problems.append(f"more than one gateway: {', '.join(gateways)}")
    streams: dict[str, Any] = {}
    for service in services:
        for stream in service.streams:
            if streams.setdefault(stream.name, stream) != stream:
                problems.append(f"stream {stream.name} is declared differently by {service.name}")
    if problems:
        raise CatalogError("the service catalog is inconsistent:\n  " + "\n  ".join(problems))
    return Catalog(services)


def load(found: Iterable[EntryPoint] | None = None) -> Catalog:
    """The catalog of the installed services (entry-point group `brigade.services`)."""
    definitions = []
    for entry in entry_points(group=ENTRY_POINT_GROUP) if found is None else found:
        try:
            definition = entry.load()
        except Exception as exc:
            raise CatalogError(
                f"service {entry.name!r} is registered as {entry.value} but cannot be loaded "
                f"({type(exc).__name__}: {exc}); `make install` refreshes the registrations"
            ) from exc
        if not isinstance(definition, ServiceDefinition):
            raise CatalogError(f"service {entry.name!r}: {entry.value} is not a ServiceDefinition")
        if definition.name != entry.name:
            raise CatalogError(f"service {entry.name!r}: {entry.value} declares itself as {definition.name!r}")
        definitions.append(definition)
    return build(definitions)
