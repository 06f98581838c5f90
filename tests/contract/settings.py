"""How schemathesis runs against Brigade: every check, both kinds of data, a fixed budget and seed.

Built in code rather than read from a `schemathesis.toml`, so that no file elsewhere in the tree (or
above it: schemathesis looks in parent directories) changes what `make test` asserts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hypothesis
import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

SEED = 20240607
POSITIVE_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
NEGATIVE_DEFAULT = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]
MISSING_HEADER_DEFAULT = ["400", "401", "403", "406", "415", "422"]
# Generated cases per operation in the fuzzing phase. The examples and coverage phases come on top
# (the coverage phase derives its cases from the schema: boundaries, missing parameters, unexpected
# methods, OPTIONS), so this bounds the random part only.
MAX_EXAMPLES = 50
# Stateful: scenarios, and calls per scenario (place an order, read it, list, cancel, ...).
SCENARIOS = 25
STEPS = 10
REQUEST_TIMEOUT_S = 10

# Every check schemathesis 4.32 ships, named so that a release adding one shows up as a decision to
# make here. `max_response_time` is left out: timings belong in benchmarks, not in pass/fail tests.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "use_after_free",
    "ensure_resource_availability",
    "missing_required_header",
    "ignored_auth",
    "object_level_authorization",
    "unsupported_method",
    "allow_header_conformance",
)


def config(*, peers: Path | None = None) -> schemathesis.Config:
    """The configuration every schema is loaded with. `peers` is a Web Fuzzing Commons auth document
    whose users must not see each other's objects (what `object_level_authorization` probes)."""
    data: dict[str, Any] = {
        "seed": SEED,
        "request-timeout": REQUEST_TIMEOUT_S,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            # No `.hypothesis/` directory in the repository, and no example replayed from an earlier run.
            "database": "none",
        },
        "phases": {"stateful": {"max-steps": STEPS, "generation": {"max-examples": SCENARIOS}}},
        "checks": {
            "enabled": True,
            **{name: {"enabled": True} for name in CHECKS},
            # A write naming the version it read (If-Match) may find the resource moved on: 412 is the
            # server's state answering, not the request's shape (RFC 9110 §13.1.1).
            "positive_data_acceptance": {"enabled": True, "expected-statuses": [*POSITIVE_DEFAULT, "412"]},
            # Any bytes are a valid binary body, so a "negative" picture upload is a valid one, which
            # a stale If-Match refuses with 412 like any other.
            "negative_data_rejection": {"enabled": True, "expected-statuses": [*NEGATIVE_DEFAULT, "412"]},
            # A missing If-Match is 428 Precondition Required, the status RFC 6585 made for it.
            "missing_required_header": {"enabled": True, "expected-statuses": [*MISSING_HEADER_DEFAULT, "428"]},
        },
    }
    # Any bytes are a valid picture body as the schema states it (binary), so no generated upload is
    # "invalid"; what the kitchen refuses there (type, first bytes, size) its integration tests cover.
    data["operations"] = [
        {
            "include-path": "/api/kitchen/dishes/{dish_id}/image",
            "checks": {"negative_data_rejection": {"enabled": False}},
        }
    ]
    if peers is not None:
        data["auth"] = {"wfc": {"path": str(peers), "peers": _users(peers)}}
    return schemathesis.Config.from_dict(data)


def _users(document: Path) -> list[str]:
    return [entry["name"] for entry in json.loads(document.read_text(encoding="utf-8"))["auth"]]


def stateful(schema: OpenApiSchema) -> hypothesis.settings:
    """Hypothesis settings for a state machine over `schema`: the configured budget, generation only.

    A scenario's next step depends on what the server answered, and the server keeps what earlier
    scenarios did, so replaying one to shrink it draws differently (Hypothesis calls that a flaky
    strategy and drops the failure). schemathesis's own state machines run generation only for that
    reason, with the health checks off.
    """
    return hypothesis.settings(
        schema.config.get_hypothesis_settings(phase="stateful"),
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
