"""The route table (`infra/helm/brigade/routes.yaml`): path prefix → component, longest prefix wins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class RouteTableError(ValueError):
    """The route file is missing or malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Route:
    prefix: str
    component: str
    websocket: bool = False

    def matches(self, path: str) -> bool:
        """Kubernetes `pathType: Prefix` semantics: the prefix must end on a whole path segment."""
        base = self.prefix.rstrip("/")
        return path == base or path.startswith(base + "/")


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: len(r.prefix.rstrip("/")), reverse=True)

    def match(self, path: str) -> Route | None:
        return next((r for r in self.routes if r.matches(path)), None)

    @property
    def components(self) -> set[str]:
        return {r.component for r in self.routes}


def _route(item: Any, where: str) -> Route:
    if not isinstance(item, dict):
        raise RouteTableError(f"{where}: expected a mapping with prefix and component, got {item!r}")
    prefix, component = item.get("prefix"), item.get("component")
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise RouteTableError(f"{where}: prefix must be a path starting with '/', got {prefix!r}")
    if not isinstance(component, str) or not component:
        raise RouteTableError(f"{where}: component must be a name, got {component!r}")
    websocket = item.get("websocket", False)
    if not isinstance(websocket, bool):
        raise RouteTableError(f"{where}: websocket must be true or false, got {websocket!r}")
    return Route(prefix, component, websocket)


def load_routes(path: Path) -> RouteTable:
    """Read a route file: a YAML list of `{prefix, component, websocket?}` (or `{routes: [...]}`)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RouteTableError(f"cannot read the route table {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise RouteTableError(f"{path} is not valid YAML: {exc}") from None
    if isinstance(data, dict):
        data = data.get("routes")
    if not isinstance(data, list):
        raise RouteTableError(f"{path}: expected a list of routes")
    return RouteTable(_route(item, f"{path} entry {i + 1}") for i, item in enumerate(data))
