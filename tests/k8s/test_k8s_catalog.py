"""A service added to the catalog is deployed by the charts once `make catalog` has run, with no values
of its own: its Deployment, Service, Ingress route, migration and seed Jobs, database role and
credentials, and the gateway's way in. Shown with a throwaway service in copies of the charts."""

from __future__ import annotations

import shutil

import pytest

from brigade_common.catalog import build, load
from brigade_devstack.derived import FILES
from brigade_devstack.derived.sources import Sources
from tests.fake_service import SAMPLE
from tests.k8s.objects import env_of, pod_spec
from tests.k8s.render import CHART, POSTGRES_CHART, REPO, Rendered, template


@pytest.fixture(scope="module")
def charts(helm: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Rendered, Rendered]:
    """(brigade, brigade-postgres) rendered from copies holding the catalog's files with the sample."""
    tmp = tmp_path_factory.mktemp("charts")
    copies = {CHART: tmp / "brigade", POSTGRES_CHART: tmp / "brigade-postgres"}
    for chart, copy in copies.items():
        shutil.copytree(chart, copy)
    sources = Sources(build([*load(), SAMPLE]), REPO)
    for derived in FILES:
        path = REPO / derived.path
        for chart, copy in copies.items():
            if path.parent == chart:
                (copy / path.name).write_text(derived.render(sources, path.read_text()))
    return template(helm, copies[CHART], "brigade"), template(helm, copies[POSTGRES_CHART], "brigade-postgres")


def test_the_new_service_runs_with_its_database_and_migrations(charts: tuple[Rendered, Rendered]) -> None:
    brigade, postgres = charts
    (container,) = pod_spec(brigade.get("Deployment", "sample"))["containers"]
    assert container["image"].startswith("brigade-sample:")
    assert container["command"] == ["python", "-m", "brigade_sample", "api"]
    env = env_of(container)
    assert env["SAMPLE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "brigade-db-sample"
    # It verifies tokens with the auth service's keys over NATS: only the issuer and audience are set.
    assert env["SAMPLE_JWT_ISSUER"]["value"] == "brigade" and "SAMPLE_JWT_PUBLIC_KEYS" not in env
    assert env["SAMPLE_NATS_URL"]["value"] == "nats://nats:4222"
    for step in ("migrate", "seed"):
        job = brigade.get("Job", f"sample-{step}")
        assert pod_spec(job)["containers"][0]["command"] == ["python", "-m", "brigade_sample", step]
    assert "brigade-db-sample" in postgres.names("Secret")
    (cluster,) = postgres.of_kind("Cluster")
    assert "sample" in {r["name"] for r in cluster["spec"]["managed"]["roles"]}


def test_the_new_service_is_routed_and_the_gateway_may_call_it(charts: tuple[Rendered, Rendered]) -> None:
    brigade, _ = charts
    ingress = brigade.get("Ingress", "brigade")
    routed = {p["path"]: p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert routed["/api/sample"] == "sample"
    assert brigade.get("Service", "sample")["spec"]["ports"][0]["port"] == 8080
    policy = brigade.get("NetworkPolicy", "sample")
    callers = [
        peer["podSelector"]["matchLabels"].get("app.kubernetes.io/component")
        for rule in policy["spec"]["ingress"]
        for peer in rule["from"]
        if "podSelector" in peer and "namespaceSelector" not in peer
    ]
    assert "web" in callers
