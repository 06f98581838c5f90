"""Each service's OpenAPI document as its code declares it: what the contract tests generate from.

Loaded in-process because schemathesis builds its tests at collection time, before any server runs
(its fixture-based loader, `schemathesis.pytest.from_fixture`, fails on pytest 9.2: it sets
`Node._nodeid`, which pytest no longer has). `test_served_document_is_the_declared_one` proves that
each running service serves exactly this document at `/api/<service>/openapi.json`.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

from brigade_kitchen.entrypoints.http import api as kitchen_api
from brigade_market.app import api as market_api
from brigade_warehouse.entrypoints.http import api as warehouse_api
from brigade_web.app import build_app
from brigade_web.config import Settings as WebSettings
from tests.e2e.harness import ROOT

ROUTES_FILE = ROOT / "infra/helm/brigade/routes.yaml"


def _web() -> dict[str, Any]:
    # The gateway documents the prefixes of its route table; upstreams and the front end do not matter.
    settings = WebSettings(routes_file=ROUTES_FILE, static_dir=Path(tempfile.gettempdir()), upstreams={})
    document: dict[str, Any] = build_app(settings).state.openapi.document()
    return document


def declared() -> dict[str, dict[str, Any]]:
    """Service name → the OpenAPI document it declares (a copy: schemathesis adds the links it infers
    to the document it is given, and the services cache theirs)."""
    documents = {
        "kitchen": kitchen_api.document(),
        "warehouse": warehouse_api.document(),
        "market": market_api.document(),
        "web": _web(),
    }
    return copy.deepcopy(documents)
