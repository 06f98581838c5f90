"""The charts' view of each service: infra/helm/brigade/catalog.yaml, which the brigade chart merges
under `components` (so values.yaml holds only tuning), and the database roles of brigade-postgres."""

from __future__ import annotations

import re
from typing import Any

import yaml

from brigade_common.service import ServiceDefinition
from brigade_devstack.derived.sources import GENERATED, DerivedError, Sources

CHART_CATALOG = "infra/helm/brigade/catalog.yaml"
POSTGRES_ROLES = "infra/helm/brigade-postgres/roles.yaml"
# A PostgreSQL role and schema are named after the service (brigade-postgres values.schema.json).
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")

COMPONENTS_HEADER = f"""\
# What each service is, as the brigade chart needs it; merged per component as
# `defaults` < this file < values.yaml `components.<name>` (templates/_helpers.tpl).
# {GENERATED}
# Deployment choices (settings, replicas, resources, seed off in production…) go in values files.
"""

ROLES_HEADER = f"""\
# The services that own data: each gets a login role, a schema and a credentials Secret of its
# name, as do the extra `roles` of values.yaml (templates/_helpers.tpl).
# {GENERATED}
"""


def component(sources: Sources, service: ServiceDefinition[Any]) -> dict[str, Any]:
    gateway = sources.catalog.gateway
    entry: dict[str, Any] = {
        "module": service.module,
        "envPrefix": service.env_prefix.removesuffix("_"),
        "image": {"repository": service.image},
        "nats": service.nats,
        "jwt": service.jwt,
        "database": {"enabled": service.has_database},
        "seed": service.seed is not None,
    }
    # The gateway may call every routed API (locally it does; in the cluster with gateway mode on).
    if gateway is not None and service is not gateway and service.routes:
        entry["networkPolicy"] = {"fromComponents": [gateway.name]}
    return entry


def render_components(sources: Sources, current: str) -> str:
    components = {s.name: component(sources, s) for s in sources.catalog}
    return COMPONENTS_HEADER + yaml.safe_dump(components, sort_keys=False, default_flow_style=None, width=120)


def render_roles(sources: Sources, current: str) -> str:
    roles = []
    for service in sources.catalog.with_database:
        if service.schema != service.name or not IDENTIFIER.fullmatch(service.name):
            raise DerivedError(
                f"{service.name}: the charts give each service a PostgreSQL role and schema of its own name, "
                f"so its schema must be {service.name!r} (it is {service.schema!r}) and the name a SQL identifier"
            )
        roles.append(service.name)
    return ROLES_HEADER + "".join(f"- {role}\n" for role in roles)
