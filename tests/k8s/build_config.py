"""What the build and deploy files say, read once for the offline tests (tests/k8s) and the image
tests (tests/images): skaffold.yaml with its profiles applied, the chart's values, the Dockerfiles'
stages, and the workspace members each package needs."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SKAFFOLD = yaml.safe_load((REPO / "skaffold.yaml").read_text())
CHART_VALUES = yaml.safe_load((REPO / "infra/helm/brigade/values.yaml").read_text())
SERVICES = sorted(p.parent.name for p in (REPO / "services").glob("*/pyproject.toml"))


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


def profile_names() -> list[str]:
    return [p["name"] for p in SKAFFOLD.get("profiles", [])]


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
