"""skaffold.yaml, the Dockerfiles and the cluster config agree with each other and with the repo."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# shared/ sits beside the repository (../shared from the repo root).
SKAFFOLD_SCHEMA = REPO.parent / "shared/schemas/skaffold-v4beta14.json"
SKAFFOLD = yaml.safe_load((REPO / "skaffold.yaml").read_text())
CHART_VALUES = yaml.safe_load((REPO / "infra/helm/brigade/values.yaml").read_text())
SERVICES = sorted(p.parent.name for p in (REPO / "services").glob("*/pyproject.toml"))
RELEASE_ORDER = ["ingress-nginx", "cnpg", "nats", "brigade-postgres", "brigade"]


# ------------------------------------------------------------------------------------------ helpers


def apply_patches(config: dict[str, Any], patches: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON-patch subset Skaffold profiles use here (add/replace/remove), strict about paths."""
    config = copy.deepcopy(config)
    for patch in patches:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in patch["path"].split("/")[1:]]
        node: Any = config
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if patch["op"] == "add" and isinstance(node, list):
            node.insert(len(node) if last == "-" else int(last), patch["value"])
        elif patch["op"] in ("add", "replace"):
            if patch["op"] == "replace":
                assert (int(last) < len(node)) if isinstance(node, list) else last in node, patch
            node[int(last) if isinstance(node, list) else last] = patch["value"]
        elif patch["op"] == "remove":
            del node[int(last) if isinstance(node, list) else last]
        else:
            raise AssertionError(f"unsupported patch {patch}")
    return config


def profile(name: str) -> dict[str, Any]:
    (found,) = [p for p in SKAFFOLD["profiles"] if p["name"] == name]
    return found


def with_profile(names: str) -> dict[str, Any]:
    """skaffold.yaml as `-p names` makes it (comma-separated profiles, applied in order)."""
    config = SKAFFOLD
    for name in names.split(","):
        prof = profile(name)
        config = apply_patches(config, prof.get("patches", []))
        for section in ("build", "deploy"):
            for key, value in prof.get(section, {}).items():
                config.setdefault(section, {})[key] = value
    return config


def releases(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in config["deploy"]["helm"]["releases"]}


def artifacts(config: dict[str, Any] = SKAFFOLD) -> dict[str, dict[str, Any]]:
    return {a["image"]: a for a in config["build"]["artifacts"]}


def dockerfile_stages(path: Path) -> list[list[str]]:
    """Instructions per stage (continuation lines joined, comments dropped); stage 0 holds pre-FROM ARGs."""
    text = re.sub(r"\\\n", " ", path.read_text())
    stages: list[list[str]] = [[]]
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def workspace_closure(package: str) -> dict[str, str]:
    """Workspace members (name -> path) that `package` needs, itself included, from uv.lock."""
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    members = {p["name"]: p for p in lock["package"] if "editable" in p["source"]}
    todo, seen = [package], {}
    while todo:
        name = todo.pop()
        if name in seen or name not in members:
            continue
        seen[name] = members[name]["source"]["editable"]
        todo += [d["name"] for d in members[name].get("dependencies", [])]
    return seen


def sanitized(image: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", image)


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
        assert component in CHART_VALUES["components"], f"{key}: no such component in the chart"


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


# --------------------------------------------------------------------------------------- dockerfiles


def test_the_base_image_is_slim_python_with_locked_deps_and_a_non_root_user() -> None:
    stages = dockerfile_stages(REPO / "Dockerfile.base")
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in stages[0]
    text = " ".join(line for stage in stages for line in stage)
    assert re.search(r"uv sync --frozen --no-dev\b", text)
    assert not re.search(r"apt-get install|build-essential|\bgcc\b", text), "no compilers in any stage"
    final = stages[-1]
    assert final[0] == "FROM ${PYTHON_IMAGE}"
    assert final[-1] == "USER 10001:10001"
    assert any("--uid 10001" in line for line in final)
    assert not any(re.search(r"\buv\b|pip install|/root/.cache", line) for line in final), (
        "uv, pip installs and caches stay in the builder stage"
    )


def test_the_base_copies_the_manifest_of_every_workspace_member_a_service_needs() -> None:
    copied = {
        m[1]
        for line in dockerfile_stages(REPO / "Dockerfile.base")[1]
        if (m := re.match(r"COPY (\S+)/pyproject\.toml \1/$", line))
    }
    for service in SERVICES:
        for member, path in workspace_closure(f"brigade-{service}").items():
            assert path in copied, f"Dockerfile.base must COPY {path}/pyproject.toml (needed by {member})"


def test_each_service_image_puts_its_workspace_libraries_on_the_path() -> None:
    for service in SERVICES:
        final = dockerfile_stages(REPO / f"services/{service}/Dockerfile")[-1]
        (env,) = [line for line in final if line.startswith("ENV PYTHONPATH=")]
        path = env.removeprefix("ENV PYTHONPATH=").split(":")
        for member, location in workspace_closure(f"brigade-{service}").items():
            assert f"/app/{location}/src" in path, f"{service}: {member} missing from PYTHONPATH"


def test_the_web_image_builds_the_front_end_with_node_first() -> None:
    stages = dockerfile_stages(REPO / "services/web/Dockerfile")
    (node,) = [s for s in stages[1:] if s[0].startswith("FROM ${NODE_IMAGE} AS ")]
    stage_name = node[0].split(" AS ")[1]
    assert any("npm ci" in line for line in node)
    assert "RUN npm run build" in node
    assert any(line.startswith("COPY services/web/frontend/") for line in node)
    static_dir = CHART_VALUES["components"]["web"]["settings"]["STATIC_DIR"]
    assert f"COPY --from={stage_name} /src/dist/ {static_dir}/" in stages[-1]


def test_the_load_generator_image_is_slim_python_with_locked_locust_and_a_non_root_user() -> None:
    stages = dockerfile_stages(REPO / "tests/load/Dockerfile")
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in stages[0]
    builder = " ".join(stages[1])
    # Exactly the lock: the common library's dependencies, then the root project's `load` group.
    assert re.search(r"uv sync --frozen --no-dev --no-install-workspace --package brigade-common\b", builder)
    assert re.search(r"uv sync --frozen --no-dev --no-install-workspace --only-group load --inexact\b", builder)
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    assert "locust" in {p["name"] for p in lock["package"]}
    copied = {m[1] for line in stages[1] if (m := re.match(r"COPY (\S+)/pyproject\.toml \1/$", line))}
    for member, path in workspace_closure("brigade").items():
        if path != ".":
            assert path in copied, f"tests/load/Dockerfile must COPY {path}/pyproject.toml ({member})"
    final = stages[-1]
    assert final[0] == "FROM ${PYTHON_IMAGE}"
    assert final[-1].startswith('CMD ["locust"')
    assert "USER 10001:10001" in final
    assert any("--uid 10001" in line for line in final)
    assert not any(re.search(r"\buv\b|pip install|/root/.cache", line) for line in final)
    sources = [line.split()[1] for line in final if line.startswith("COPY ") and "--from=" not in line]
    assert sources == ["libs/common/", "tests/load/locustfile.py"]
    (env,) = [line for line in final if line.startswith("ENV ")]
    settings = dict(re.findall(r"(\w+)=(\S+)", env))
    assert settings["LOCUST_LOCUSTFILE"] == "/app/tests/load/locustfile.py"
    path = settings["PYTHONPATH"].split(":")
    for member, location in workspace_closure("brigade-common").items():
        assert f"/app/{location}/src" in path, member


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context: the last pattern that matches the path or
    one of its parent directories decides (`!` re-includes); `**` spans directories, `*` does not."""

    def regex(pattern: str) -> re.Pattern[str]:
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out)

    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for line in patterns:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        compiled = regex(line.lstrip("!").strip("/"))
        if any(compiled.fullmatch(c) for c in candidates):
            ignored = not negated
    return ignored


def test_the_build_context_holds_what_the_images_copy_and_no_other_tests() -> None:
    patterns = (REPO / ".dockerignore").read_text().splitlines()
    for kept in (
        "tests/load/locustfile.py",
        "libs/common/src/brigade_common/auth.py",
        "infra/helm/brigade/routes.yaml",
        "uv.lock",
        "services/kitchen/src/brigade_kitchen/__init__.py",
    ):
        assert not dockerignored(kept, patterns), kept
    for dropped in (
        "tests/e2e/harness.py",
        "tests/k8s/conftest.py",
        "services/kitchen/tests/unit/test_domain.py",
        "libs/common/tests/test_auth.py",
        "tests/load/__pycache__/locustfile.cpython-311.pyc",
        "infra/helm/brigade/values.yaml",
        ".brigade/jwt/private.pem",
        "docs/benchmarks.md",
    ):
        assert dockerignored(dropped, patterns), dropped


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    for pattern in ("**/.git", "**/.venv", "**/node_modules", ".tools", ".brigade", "**/__pycache__"):
        assert pattern in ignored, pattern
    for needed in ("services", "libs", "uv.lock", "pyproject.toml"):
        assert needed not in ignored
    assert "!infra/helm/brigade/routes.yaml" in ignored, "the web image copies the route table"


def test_watchfiles_is_in_the_lock_for_dev_mode_reloads() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    assert "watchfiles" in {p["name"] for p in lock["package"]}


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
