"""The brigade-postgres chart: CloudNativePG custom resources (no upstream schema here, so checked
structurally) and the promises the brigade chart relies on: one role, schema and Secret per service."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.k8s.build_config import COMPONENTS, chart_component

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.k8s.render import Rendered

REPO = Path(__file__).resolve().parents[2]
APP_VALUES = yaml.safe_load((REPO / "infra/helm/brigade/values.yaml").read_text())
PROD = REPO / "infra/helm/values/brigade-postgres-prod.yaml"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@pytest.fixture(scope="module", params=["default", "prod"])
def rendered(request: pytest.FixtureRequest, render_postgres: Callable[..., Rendered]) -> Rendered:
    return render_postgres(*(["-f", str(PROD)] if request.param == "prod" else []))


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def database_components() -> list[str]:
    return [n for n in COMPONENTS if chart_component(n)["database"]["enabled"]]


def test_one_cluster_with_the_brigade_database(rendered: Rendered) -> None:
    (cluster,) = rendered.of_kind("Cluster")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = cluster["spec"]
    assert cluster["metadata"]["name"] == APP_VALUES["postgres"]["clusterName"]
    assert isinstance(spec["instances"], int)
    assert spec["instances"] >= 1
    assert re.fullmatch(r"\d+(Mi|Gi|Ti)", spec["storage"]["size"])
    assert spec["bootstrap"]["initdb"]["database"] == "brigade"
    assert spec["enableSuperuserAccess"] is False
    assert set(spec) <= {
        "instances",
        "imageName",
        "primaryUpdateStrategy",
        "enableSuperuserAccess",
        "storage",
        "resources",
        "postgresql",
        "bootstrap",
        "managed",
    }, "unexpected Cluster fields"
    assert APP_VALUES["postgres"]["host"] == f"{cluster['metadata']['name']}-rw"


def test_every_service_role_logs_in_with_its_generated_secret(rendered: Rendered) -> None:
    (cluster,) = rendered.of_kind("Cluster")
    roles = cluster["spec"]["managed"]["roles"]
    secrets = {s["metadata"]["name"]: s for s in rendered.of_kind("Secret")}
    for role in roles:
        assert IDENTIFIER.match(role["name"])
        assert role["login"] is True
        assert role["ensure"] == "present"
        assert set(role) <= {"name", "ensure", "login", "inherit", "connectionLimit", "inRoles", "passwordSecret"}
        secret = secrets[role["passwordSecret"]["name"]]
        assert secret["type"] == "kubernetes.io/basic-auth"
        assert secret["metadata"]["labels"]["cnpg.io/reload"] == "true"
        data = decoded(secret)
        assert data["username"] == role["name"]
        assert len(data["password"]) >= 24
        assert data["password"].isalnum()


def test_every_service_owns_a_schema_of_its_own_name(rendered: Rendered) -> None:
    (cluster,) = rendered.of_kind("Cluster")
    (database,) = rendered.of_kind("Database")
    spec = database["spec"]
    assert database["apiVersion"] == "postgresql.cnpg.io/v1"
    assert spec["cluster"] == {"name": cluster["metadata"]["name"]}
    assert spec["name"] == cluster["spec"]["bootstrap"]["initdb"]["database"]
    assert spec["owner"] == cluster["spec"]["bootstrap"]["initdb"]["owner"]
    roles = {r["name"] for r in cluster["spec"]["managed"]["roles"]}
    assert {(s["name"], s["owner"]) for s in spec["schemas"]} == {(r, r) for r in roles}


def test_each_database_url_points_at_the_primary_service_as_its_role(rendered: Rendered) -> None:
    (cluster,) = rendered.of_kind("Cluster")
    for secret in rendered.of_kind("Secret"):
        data = decoded(secret)
        url = urlsplit(data["uri"])
        assert url.scheme == "postgresql"
        assert (url.username, url.password) == (data["username"], data["password"])
        assert url.hostname == f"{cluster['metadata']['name']}-rw.brigade.svc"
        assert url.port == 5432
        assert url.path == "/brigade"


def test_every_component_with_a_database_has_a_role_and_a_secret(rendered: Rendered) -> None:
    """Enabling a service in the brigade chart later must need no database change."""
    (cluster,) = rendered.of_kind("Cluster")
    roles = {r["name"] for r in cluster["spec"]["managed"]["roles"]}
    secrets = rendered.names("Secret")
    prefix = APP_VALUES["postgres"]["secretPrefix"]
    for component in database_components():
        assert component in roles, f"{component} has a database in the brigade chart but no role"
        assert f"{prefix}{component}" in secrets
        assert APP_VALUES["postgres"]["secretKey"] == "uri"


def test_service_roles_may_create_their_schema_through_the_services_group(rendered: Rendered) -> None:
    """PostgreSQL checks CREATE on the database before it looks whether the schema exists, so the
    migrations' CREATE SCHEMA IF NOT EXISTS needs that privilege even when the schema is there."""
    (cluster,) = rendered.of_kind("Cluster")
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    (group,) = {g for r in cluster["spec"]["managed"]["roles"] for g in r["inRoles"]}
    assert all(r["inherit"] is True for r in cluster["spec"]["managed"]["roles"])
    assert initdb["postInitApplicationSQL"] == [
        f"CREATE ROLE {group} NOLOGIN",
        f"GRANT CREATE ON DATABASE {initdb['database']} TO {group}",
    ]
