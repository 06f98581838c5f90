"""skaffold.yaml and the cluster config agree with each other and with the repo."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from tests.k8s.build_config import (
    CHART_VALUES,
    COMPONENTS,
    REPO,
    SERVICES,
    SKAFFOLD,
    artifacts,
    dockerfile_stages,
    profile,
    releases,
    sanitized,
    with_profile,
)

# shared/ sits beside the repository (../shared from the repo root).
SKAFFOLD_SCHEMA = REPO.parent / "shared/schemas/skaffold-v4beta14.json"
RELEASE_ORDER = ["ingress-nginx", "cnpg", "nats", "brigade-postgres", "brigade"]


# ---------------------------------------------------------------------------------------- skaffold


@pytest.fixture(scope="module")
def skaffold_schema() -> dict[str, Any]:
    if not SKAFFOLD_SCHEMA.is_file():
        pytest.fail(
            f"Skaffold schema missing: {SKAFFOLD_SCHEMA} (expected ../shared/schemas/ relative to the repository root)",
            pytrace=False,
        )
    return json.loads(SKAFFOLD_SCHEMA.read_text())


@pytest.mark.parametrize("profile_name", [None, "kind", "prod", "load", "kind,load", "prod,load"])
def test_skaffold_yaml_matches_the_v4beta14_schema(skaffold_schema: dict[str, Any], profile_name: str | None) -> None:
    config = SKAFFOLD if profile_name is None else with_profile(profile_name)
    assert config["apiVersion"] == "skaffold/v4beta14"
    assert config["kind"] == "Config"
    validator = jsonschema.Draft7Validator(skaffold_schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(config)]
    assert errors == []


@pytest.mark.parametrize("profile_name", [None, "load"])
def test_every_artifact_has_its_dockerfile_and_every_service_an_artifact(profile_name: str | None) -> None:
    arts = artifacts(SKAFFOLD if profile_name is None else with_profile(profile_name))
    for image, art in arts.items():
        dockerfile = REPO / art.get("context", ".") / art["docker"]["dockerfile"]
        assert dockerfile.is_file(), f"{image}: {dockerfile} missing"
    for service in SERVICES:
        art = arts.get(f"brigade-{service}")
        assert art, f"services/{service} has no Skaffold artifact brigade-{service}"
        assert art["docker"]["dockerfile"] == f"services/{service}/Dockerfile"
        assert art["context"] == "."


def test_every_service_image_builds_from_the_base_artifact() -> None:
    arts = artifacts()
    assert arts["brigade-base"]["docker"]["dockerfile"] == "Dockerfile.base"
    for service in SERVICES:
        art = arts[f"brigade-{service}"]
        assert art["requires"] == [{"image": "brigade-base", "alias": "BASE_IMAGE"}]
        stages = dockerfile_stages(REPO / f"services/{service}/Dockerfile")
        assert any(line.startswith("ARG BASE_IMAGE") for line in stages[0]), "ARG before the first FROM"
        assert stages[-1][0] == "FROM ${BASE_IMAGE}", f"{service}: final stage must build on the base"
        assert not any(line.upper().startswith("USER") for line in stages[-1]), "keeps the base's user"
        assert f'CMD ["python", "-m", "brigade_{service}", "api"]' in stages[-1]


def test_dev_sync_targets_the_folders_the_images_and_the_chart_use() -> None:
    for service in SERVICES:
        art = artifacts()[f"brigade-{service}"]
        rules = {r["src"]: r for r in art["sync"]["manual"]}
        own = rules[f"services/{service}/src/**/*.py"]
        assert (own["dest"], own["strip"]) == (f"/app/services/{service}/src", f"services/{service}/src/")
        libs = rules["libs/*/src/**/*.py"]
        assert (libs["dest"], libs["strip"]) == ("/app/libs", "libs/")
        final = dockerfile_stages(REPO / f"services/{service}/Dockerfile")[-1]
        assert f"COPY services/{service}/ /app/services/{service}/" in final
        assert "COPY libs/ /app/libs/" in final


def test_releases_deploy_dependencies_first_from_pinned_charts() -> None:
    helm = SKAFFOLD["deploy"]["helm"]
    assert [r["name"] for r in helm["releases"]] == RELEASE_ORDER
    assert helm.get("concurrency", 1) == 1, "releases must install one after another, in order"
    for release in helm["releases"]:
        if "remoteChart" in release:
            assert release["repo"].startswith("https://"), release["name"]
            assert re.fullmatch(r"\d+\.\d+\.\d+", str(release["version"])), f"{release['name']}: pin a version"
        else:
            assert (REPO / release["chartPath"] / "Chart.yaml").is_file(), release["name"]
    rel = releases(SKAFFOLD)
    assert rel["nats"]["repo"].rstrip("/") == "https://nats-io.github.io/k8s/helm/charts"
    assert rel["cnpg"]["repo"] == "https://cloudnative-pg.github.io/charts"
    assert rel["nats"]["namespace"] == rel["brigade"]["namespace"] == rel["brigade-postgres"]["namespace"]
    hook = helm["hooks"]["before"][0]["host"]["command"]
    assert (REPO / hook[-1]).is_file(), hook


@pytest.mark.parametrize("profile_name", [None, "kind", "prod", "load", "kind,load", "prod,load"])
def test_every_values_file_skaffold_passes_exists(profile_name: str | None) -> None:
    config = SKAFFOLD if profile_name is None else with_profile(profile_name)
    for release in config["deploy"]["helm"]["releases"]:
        for values in release.get("valuesFiles", []):
            assert (REPO / values).is_file(), f"{release['name']}: {values}"


def test_skaffold_sets_each_component_image_to_the_image_it_built() -> None:
    templates = releases(SKAFFOLD)["brigade"]["setValueTemplates"]
    for service in SERVICES:
        key = sanitized(f"brigade-{service}")
        assert templates[f"components.{service}.image.repository"] == f"{{{{.IMAGE_REPO_{key}}}}}"
        assert templates[f"components.{service}.image.tag"] == f"{{{{.IMAGE_TAG_{key}}}}}"
    for key in templates:
        component = key.split(".")[1]
        assert component in COMPONENTS, f"{key}: no such component in the chart"


def test_profiles_layer_the_right_values() -> None:
    kind = profile("kind")
    assert any(re.fullmatch(a["kubeContext"], "kind-brigade") for a in kind["activation"])
    kind_releases = releases(with_profile("kind"))
    assert kind_releases["brigade"]["valuesFiles"][-1] == "infra/helm/values/brigade-kind.yaml"
    assert kind_releases["ingress-nginx"]["valuesFiles"][-1] == "infra/helm/values/ingress-nginx-kind.yaml"
    prod_releases = releases(with_profile("prod"))
    assert prod_releases["brigade"]["valuesFiles"][-1] == "infra/helm/values/brigade-prod.yaml"
    assert "ingress-nginx-kind.yaml" not in str(prod_releases["ingress-nginx"])


def test_the_load_profile_builds_the_load_generator_and_enables_it_with_that_image() -> None:
    assert "brigade-loadgenerator" not in artifacts(), "off by default: only the load profile builds it"
    for names in ("load", "kind,load", "prod,load"):
        config = with_profile(names)
        art = artifacts(config)["brigade-loadgenerator"]
        assert art["docker"]["dockerfile"] == "tests/load/Dockerfile"
        assert art["context"] == "."
        assert "requires" not in art, "locust does not build on brigade-base"
        brigade = releases(config)["brigade"]
        assert brigade["valuesFiles"][-1] == "infra/helm/values/brigade-load.yaml", names
        key = sanitized("brigade-loadgenerator")
        templates = brigade["setValueTemplates"]
        assert templates["components.loadgenerator.image.repository"] == f"{{{{.IMAGE_REPO_{key}}}}}"
        assert templates["components.loadgenerator.image.tag"] == f"{{{{.IMAGE_TAG_{key}}}}}"
        # The layers of the profile it is added to stay under it.
        first, _, rest = names.partition(",")
        under = releases(with_profile(first))["brigade"]["valuesFiles"] if rest else []
        assert brigade["valuesFiles"][: len(under)] == under
    values = yaml.safe_load((REPO / "infra/helm/values/brigade-load.yaml").read_text())
    assert values == {"components": {"loadgenerator": {"enabled": True}}}
    assert CHART_VALUES["components"]["loadgenerator"]["enabled"] is False
    assert CHART_VALUES["components"]["loadgenerator"]["image"]["repository"] == "brigade-loadgenerator"


@pytest.mark.parametrize("profile_name", [None, "kind", "prod", "load", "kind,load", "prod,load"])
def test_image_tags_are_never_latest(profile_name: str | None) -> None:
    config = SKAFFOLD if profile_name is None else with_profile(profile_name)
    policy = config["build"]["tagPolicy"]
    # Skaffold's sha256 tagger tags `latest`; envTemplate/customTemplate could produce it.
    assert set(policy) <= {"gitCommit", "inputDigest"}, policy
    assert "latest" not in json.dumps(policy)


def test_production_pushes_images_tagged_by_commit() -> None:
    build = with_profile("prod")["build"]
    assert build["local"]["push"] is True
    assert "gitCommit" in build["tagPolicy"]


# ------------------------------------------------------------------------------ cluster and charts


def test_the_kind_cluster_exposes_one_ingress_ready_node_on_ports_80_and_443() -> None:
    kind = yaml.safe_load((REPO / "infra/k8s/kind.yaml").read_text())
    assert kind["kind"] == "Cluster"
    assert kind["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    (node,) = kind["nodes"]
    assert node["labels"]["ingress-ready"] == "true"
    assert {(m["containerPort"], m["hostPort"]) for m in node["extraPortMappings"]} == {(80, 80), (443, 443)}
    controller = yaml.safe_load((REPO / "infra/helm/values/ingress-nginx-kind.yaml").read_text())["controller"]
    assert controller["nodeSelector"]["ingress-ready"] == "true"
    assert controller["hostPort"]["enabled"] is True


def test_the_namespace_manifest_is_the_one_the_releases_use() -> None:
    namespace = yaml.safe_load((REPO / "infra/k8s/namespace.yaml").read_text())
    assert namespace["kind"] == "Namespace"
    assert namespace["metadata"]["name"] == releases(SKAFFOLD)["brigade"]["namespace"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] in {"baseline", "restricted"}


def test_nats_runs_jetstream_on_files_with_a_server_that_has_message_schedules() -> None:
    values = yaml.safe_load((REPO / "infra/helm/values/nats.yaml").read_text())
    jetstream = values["config"]["jetstream"]
    assert jetstream["enabled"]
    assert jetstream["fileStore"]["enabled"]
    assert jetstream["fileStore"]["pvc"]["enabled"]
    tag = values["container"]["image"]["tag"]
    major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", tag).groups())
    assert (major, minor) >= (2, 12), f"nats-server {tag}: message schedules need 2.12+"
    # From 2.12 on, the nats chart's version follows the server's (nats-io/k8s#1078): a chart bump
    # without the tag, or the reverse, would run a server the chart was not released with.
    chart = str(releases(SKAFFOLD)["nats"]["version"])
    assert chart.split(".")[:2] == [str(major), str(minor)], f"nats chart {chart} with server {tag}"
    assert CHART_VALUES["nats"]["url"] == f"nats://{releases(SKAFFOLD)['nats']['name']}:4222"


def test_the_kind_installer_pins_a_release_that_enforces_network_policies() -> None:
    script = (REPO / "scripts/install-kind.sh").read_text()
    match = re.search(r'KIND_VERSION="\$\{KIND_VERSION:-v0\.(\d+)\.\d+\}"', script)
    assert match, "scripts/install-kind.sh pins no kind version"
    assert int(match.group(1)) >= 24, "kind enforces NetworkPolicies from v0.24 on"
    assert "go install" in script and ".tools/bin" in script


def test_the_helm_installer_pins_a_helm_v3_release() -> None:
    script = (REPO / "scripts/install-helm.sh").read_text()
    assert re.search(r'HELM_VERSION="\$\{HELM_VERSION:-v3\.\d+\.\d+\}"', script)
    assert ".tools/bin" in script
    assert "go install" in script


# The CloudNativePG operator each cloudnative-pg chart version deploys (its appVersion): the local
# control plane of tests/cluster validates our Cluster and Database against that operator's CRDs.
CNPG_OPERATOR_OF_CHART = {"0.28.3": "v1.29.1"}


def test_the_control_planes_cnpg_crds_are_those_of_the_operator_skaffold_deploys() -> None:
    chart = str(releases(SKAFFOLD)["cnpg"]["version"])
    assert chart in CNPG_OPERATOR_OF_CHART, f"cnpg chart {chart}: add its appVersion here and in the script"
    script = (REPO / "scripts/install-control-plane.sh").read_text()
    pinned = re.search(r'CNPG_VERSION="\$\{CNPG_VERSION:-(v[0-9.]+)\}"', script)
    assert pinned, "scripts/install-control-plane.sh pins CNPG_VERSION"
    assert pinned[1] == CNPG_OPERATOR_OF_CHART[chart]
