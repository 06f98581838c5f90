"""Each service's OpenAPI document as its code declares it: what the contract tests generate from.

Every service of the catalog (brigade_common.catalog) is in: a new service is tested as soon as it
is registered. Each document comes from the service's own app, built with placeholder settings and
never started (schemathesis builds its tests at collection time, before any server runs; its
fixture-based loader, `schemathesis.pytest.from_fixture`, fails on pytest 9.2).
`test_served_document_is_the_declared_one` proves that each running service serves exactly this
document at `/api/<service>/openapi.json`.
"""

from __future__ import annotations

import copy
import functools
import tempfile
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from brigade_common.service import ServiceDefinition
from tests.contract import identities
from tests.e2e.harness import ROOT, installed

ROUTES_FILE = ROOT / "infra/helm/brigade/routes.yaml"
# What the settings of a service may require; an app is built, not started, so nothing connects.
PLACEHOLDER_SETTINGS: dict[str, Any] = {
    "database_url": "postgresql://unused@127.0.0.1:1/unused",
    "routes_file": ROUTES_FILE,
    "static_dir": Path(tempfile.gettempdir()),
    # A WebSocket that does not sign in is closed after this long (the security matrix waits it out).
    "auth_grace_s": 0.2,
}

SERVICES = tuple(installed().names)
DB_SERVICES = tuple(s.name for s in installed().with_database)


def built_app(definition: ServiceDefinition[Any]) -> Starlette:
    """The service's app with placeholder settings, trusting the contract key (`identities`); its
    lifespan never runs, so it holds no connection: what answers is what precedes any use of one."""
    fields = definition.settings.model_fields
    values = {**PLACEHOLDER_SETTINGS, "jwt_public_keys": identities.signing_key()[1]}
    settings = definition.settings(**{k: v for k, v in values.items() if k in fields})
    app: Starlette = definition.app_factory(settings)
    return app


def _document(definition: ServiceDefinition[Any]) -> dict[str, Any]:
    document: dict[str, Any] = built_app(definition).state.openapi.document()
    return document


@functools.cache
def _declared() -> dict[str, dict[str, Any]]:
    return {definition.name: _document(definition) for definition in installed()}


def declared() -> dict[str, dict[str, Any]]:
    """Service name → the OpenAPI document it declares (a copy: schemathesis adds the links it infers
    to the document it is given)."""
    return copy.deepcopy(_declared())
