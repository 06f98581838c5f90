"""One catalog of services (brigade_common.catalog): every service folder is registered, every file
derived from the catalog is what `make catalog` writes, and a service added to (or taken from) the
catalog shows up in (or leaves) every place that depends on it: the route table, the charts, the
Skaffold artifacts, the devstack and the e2e harness. (Dockerfile.base reads the services from
uv.lock: tests/k8s/test_k8s_images.py.)"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from brigade_common.catalog import Catalog, build, load
from brigade_devstack.catalog import service_table
from brigade_devstack.derived import FILES, drift
from brigade_devstack.derived.sources import Sources
from brigade_devstack.layout import Layout
from brigade_devstack.stackconfig import resolve
from tests.e2e.harness import Stack
from tests.fake_service import SAMPLE

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load()


def rendered(sources: Sources) -> dict[str, str]:
    """Every derived file as the catalog of `sources` would have it."""
    out = {}
    for derived in FILES:
        path = sources.root / derived.path
        out[derived.path] = derived.render(sources, path.read_text() if path.is_file() else "")
    return out


def stale(catalog: Catalog) -> list[str]:
    return [message.split(" is out of date")[0] for message in drift(Sources(catalog, REPO))]


def test_every_service_folder_is_registered_and_installed(catalog: Catalog) -> None:
    folders = sorted(p.parent.name for p in (REPO / "services").glob("*/pyproject.toml"))
    missing = sorted(set(folders) - set(catalog.names))
    assert not missing, (
        f"services/{missing[0]} is not in the service catalog: its pyproject.toml needs "
        f'[project.entry-points."brigade.services"] {missing[0]} = "brigade_{missing[0]}.definition:…", '
        "and `make install` must have run"
    )
    assert catalog.names == folders, "every registered service lives in services/<name>"


@pytest.mark.parametrize("name", sorted(p.parent.name for p in (REPO / "services").glob("*/pyproject.toml")))
def test_a_declaration_imports_nothing_heavy(name: str) -> None:
    """Every tool loads every declaration: the app, its I/O libraries and its wiring stay out of it."""
    program = (
        f"import sys, brigade_{name}.definition; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} | set(sys.modules))))"
    )
    found = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    loaded = set(found.stdout.split())
    heavy = {"starlette", "asyncpg", "nats", "alembic", "sqlalchemy", "uvicorn", "httpx", "structlog"}
    own = {f"brigade_{name}.{layer}" for layer in ("bootstrap", "app", "entrypoints", "adapters", "service")}
    assert not loaded & (heavy | own), f"brigade_{name}.definition imports {sorted(loaded & (heavy | own))}"


def test_the_root_project_installs_every_service(catalog: Catalog) -> None:
    """`uv sync` and `uv run` install (and refresh the registration of) only what the root project
    depends on: the workspace glob alone puts a service in uv.lock, not in the environment."""
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    dependencies = set(root["project"]["dependencies"])
    for name in catalog.names:
        package = tomllib.loads((REPO / f"services/{name}/pyproject.toml").read_text())["project"]["name"]
        assert package in dependencies, f"pyproject.toml: add {package!r} to [project] dependencies"
        assert root["tool"]["uv"]["sources"].get(package) == {"workspace": True}, (
            f"pyproject.toml: add `{package} = {{ workspace = true }}` to [tool.uv.sources]"
        )


def test_the_committed_derived_files_are_what_the_catalog_makes(catalog: Catalog) -> None:
    stale_files = drift(Sources(catalog, REPO))
    assert not stale_files, "\n\n".join(stale_files)


def test_a_new_service_is_missing_from_every_derived_file_until_make_catalog(catalog: Catalog) -> None:
    with_sample = Sources(build([*catalog, SAMPLE]), REPO)
    assert stale(with_sample.catalog) == [d.path for d in FILES]

    files = rendered(with_sample)
    assert "- prefix: /api/sample\n  component: sample\n" in files["infra/helm/brigade/routes.yaml"]
    component = yaml.safe_load(files["infra/helm/brigade/catalog.yaml"])["sample"]
    assert component["module"] == "brigade_sample"
    assert component["envPrefix"] == "SAMPLE"
    assert component["database"] == {"enabled": True}
    assert component["seed"] is True
    assert component["networkPolicy"] == {"fromComponents": ["web"]}, "the gateway may call it"
    assert "sample" in yaml.safe_load(files["infra/helm/brigade-postgres/roles.yaml"])
    skaffold = yaml.safe_load(files["skaffold.yaml"])
    (artifact,) = [a for a in skaffold["build"]["artifacts"] if a["image"] == "brigade-sample"]
    assert artifact["docker"]["dockerfile"] == "services/sample/Dockerfile"
    (brigade,) = [r for r in skaffold["deploy"]["helm"]["releases"] if r["name"] == "brigade"]
    assert brigade["setValueTemplates"]["components.sample.image.tag"] == "{{.IMAGE_TAG_brigade_sample}}"


def test_a_planned_service_keeps_its_prefix_until_its_own_declaration_replaces_it(catalog: Catalog) -> None:
    without_live = build(s for s in catalog if s.name != "live")
    routes = yaml.safe_load(rendered(Sources(without_live, REPO))["infra/helm/brigade/routes.yaml"])
    assert {"prefix": "/api/live", "component": "live", "websocket": True, "planned": True} in routes
    routes = yaml.safe_load(rendered(Sources(catalog, REPO))["infra/helm/brigade/routes.yaml"])
    assert [r for r in routes if r["component"] == "live"] == [
        {"prefix": "/api/live", "component": "live", "websocket": True}
    ], "the installed service's own declaration, no longer planned"


def test_a_removed_service_leaves_every_derived_file_it_was_in(catalog: Catalog) -> None:
    without_market = build(s for s in catalog if s.name != "market")
    assert stale(without_market) == [
        "infra/helm/brigade/routes.yaml",
        "infra/helm/brigade/catalog.yaml",
        "skaffold.yaml",
    ], "the market owns no data: brigade-postgres has no role for it"
    files = rendered(Sources(without_market, REPO))
    assert "component: market" not in files["infra/helm/brigade/routes.yaml"]
    assert "brigade-market" not in files["skaffold.yaml"]


def test_make_up_runs_a_new_service_with_its_database_behind_the_gateway(catalog: Catalog) -> None:
    table = service_table(build([*catalog, SAMPLE]))
    layout = Layout(root=Path("/repo"), home=Path("/repo/.brigade"))
    config = resolve(layout, table, {}, unavailable=lambda spec: None)
    sample = next(s for s in config.services if s.name == "sample")
    assert sample.port == 8099
    env = config.environment(sample, {})
    assert env["SAMPLE_DATABASE_URL"] == config.database_url
    assert env["SAMPLE_HTTP_PORT"] == "8099"
    assert config.upstreams()["sample"] == "http://127.0.0.1:8099"


def test_the_e2e_stack_prepares_and_starts_a_new_service(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMPLE_HTTP_PORT", "1")  # a developer's own settings reach no test process
    stack = Stack("postgresql://db", "nats://bus", tmp_path, catalog=build([*catalog, SAMPLE]))
    assert "sample" in [s.name for s in stack.catalog.with_database], "prepare() migrates and seeds it"
    assert "sample" in [s.name for s in stack.catalog.backends], "start() runs it"
    env = stack._env("sample", 9000)
    assert env["SAMPLE_DATABASE_URL"] == "postgresql://db"
    assert env["SAMPLE_NATS_URL"] == "nats://bus"
    assert env["SAMPLE_HTTP_PORT"] == "9000"
    assert "SAMPLE_HTTP_PORT" not in stack._env("kitchen", 9001)
