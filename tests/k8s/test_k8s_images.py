"""The Dockerfiles and the build context agree with the lock, the workspace and the chart."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from tests.k8s.build_config import CHART_VALUES, REPO, SERVICES, dockerfile_stages, workspace_closure


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


def test_the_base_installs_the_locked_dependencies_of_every_service_from_the_lock_alone() -> None:
    """uv --frozen reads every member's dependencies from uv.lock: the builder copies no member's
    pyproject.toml and finds the services in the lock, so a new service needs no line here."""
    builder = dockerfile_stages(REPO / "Dockerfile.base")[1]
    assert [line for line in builder if line.startswith("COPY ")] == ["COPY pyproject.toml uv.lock ./"]
    (run,) = [line for line in builder if "uv sync" in line]
    (program,) = re.findall(r"python3 -c '([^']*)'", run)
    found = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, check=True)
    assert found.stdout.split() == [arg for s in SERVICES for arg in ("--package", f"brigade-{s}")]
    assert run.rstrip().endswith("uv sync --frozen --no-dev --no-install-workspace $packages")


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
        "libs/common/src/brigade_common/auth/verifier.py",
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
