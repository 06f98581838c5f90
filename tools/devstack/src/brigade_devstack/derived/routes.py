"""infra/helm/brigade/routes.yaml: the public route table, shared by the Ingress and the local gateway."""

from __future__ import annotations

from brigade_common.catalog import route_order
from brigade_common.service import Route
from brigade_devstack.derived.sources import GENERATED, Sources

ROUTES_FILE = "infra/helm/brigade/routes.yaml"

# Services DESIGN.md §2 announces whose folders do not exist yet. Their prefixes are reserved, so
# a client calling one gets the gateway's `503 <service> is not running` problem instead of the
# single-page app, and the gateway's WebSocket path is exercised (services/web/tests use both). The
# Ingress leaves them out. A service's own declaration replaces its entry here once it is installed.
PLANNED: tuple[tuple[str, Route], ...] = (
    ("auth", Route("/api/auth")),
    ("payments", Route("/api/payments")),
    ("notifications", Route("/api/notifications")),
    ("live", Route("/api/live", websocket=True)),
)

HEADER = f"""\
# Public HTTP routes of Brigade: one entry per path prefix, the most specific first.
# {GENERATED}
# Read by the Helm chart (the Ingress, via .Files.Get) and by the local `web` gateway, so the two
# always route alike. Services serve their routes under their own prefix: nothing is rewritten.
#   prefix     path prefix (Kubernetes `pathType: Prefix` semantics: whole path segments)
#   component  the chart component (and Service) that answers it
#   websocket  long-lived connections: rendered on a separate Ingress with long proxy timeouts
#   planned    a service with no folder yet: the Ingress leaves it out, the gateway answers 503
"""


def render(sources: Sources, current: str) -> str:
    catalog = sources.catalog
    entries = [(route, service.name, False) for route, service in catalog.routes()]
    taken = {route.prefix for route, _, _ in entries}
    entries += [
        (route, name, True) for name, route in PLANNED if name not in catalog.names and route.prefix not in taken
    ]
    entries.sort(key=lambda entry: route_order(entry[0]))
    lines = []
    for route, component, planned in entries:
        lines += [f"- prefix: {route.prefix}", f"  component: {component}"]
        if route.websocket:
            lines.append("  websocket: true")
        if planned:
            lines.append("  planned: true")
    return HEADER + "".join(f"{line}\n" for line in lines)
