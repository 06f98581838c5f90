"""infra/helm/brigade/routes.yaml: the public route table, shared by the Ingress and the local gateway."""

from __future__ import annotations

from brigade_devstack.derived.sources import GENERATED, Sources

ROUTES_FILE = "infra/helm/brigade/routes.yaml"

HEADER = f"""\
# Public HTTP routes of Brigade: one entry per path prefix, the most specific first.
# {GENERATED}
# Read by the Helm chart (the Ingress, via .Files.Get) and by the local `web` gateway, so the two
# always route alike. Services serve their routes under their own prefix: nothing is rewritten.
#   prefix     path prefix (Kubernetes `pathType: Prefix` semantics: whole path segments)
#   component  the chart component (and Service) that answers it
#   websocket  long-lived connections: rendered on a separate Ingress with long proxy timeouts
"""


def render(sources: Sources, current: str) -> str:
    lines = []
    for route, service in sources.catalog.routes():
        lines += [f"- prefix: {route.prefix}", f"  component: {service.name}"]
        if route.websocket:
            lines.append("  websocket: true")
    return HEADER + "".join(f"{line}\n" for line in lines)
