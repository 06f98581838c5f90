"""What a service process loads to serve: `python -m <service> api` imports its `__main__` and its
app's modules, and none of them may load alembic, SQLAlchemy or Mako, which only `migrate` needs
(they cost each service process about 30 MiB: docs/benchmarks.md, footprint)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.bench.footprint_probe import api_imports
from tests.e2e.harness import ROOT, installed

MIGRATE_ONLY = ("alembic", "sqlalchemy", "mako")

_SCRIPT = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
"""


def loaded(modules: list[str]) -> set[str]:
    """The top-level packages a fresh interpreter holds after importing `modules`."""
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *modules], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("service", [s.name for s in installed()])
def test_serving_loads_nothing_only_migrate_needs(service: str) -> None:
    modules = api_imports(service)
    assert any(not m.endswith(".__main__") for m in modules), f"{service}: its app's module was not found"
    packages = loaded(modules)
    assert f"{installed().get(service).module}" in packages
    assert not packages & set(MIGRATE_ONLY), f"{service} api imports {sorted(packages & set(MIGRATE_ONLY))}"


def test_migrate_still_has_alembic() -> None:
    assert {"alembic", "sqlalchemy"} <= loaded(["brigade_common.migrations"])
