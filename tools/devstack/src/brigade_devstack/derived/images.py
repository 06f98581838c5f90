"""How the images are built: the Skaffold artifact of each service (and the chart values that point
the components at them), and the manifests Dockerfile.base copies for its dependency layer."""

from __future__ import annotations

import re

from brigade_devstack.derived.sources import Sources, replace_block

SKAFFOLD = "skaffold.yaml"
BASE_DOCKERFILE = "Dockerfile.base"


def _template_key(image: str) -> str:
    """Skaffold's name for an image in IMAGE_REPO_<key> / IMAGE_TAG_<key>."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", image)


def render_skaffold(sources: Sources, current: str) -> str:
    artifacts: list[str] = []
    values: list[str] = []
    for service in sources.catalog:
        folder = sources.folder(service)
        artifacts += [
            f"- image: {service.image}",
            "  context: .",
            "  docker:",
            f"    dockerfile: {folder}/Dockerfile",
            "  requires:",
            "    - image: brigade-base",
            "      alias: BASE_IMAGE",
            "  sync:",
            "    manual:",
            f'      - src: "{folder}/src/**/*.py"',
            f"        dest: /app/{folder}/src",
            f"        strip: {folder}/src/",
            '      - src: "libs/*/src/**/*.py"',
            "        dest: /app/libs",
            "        strip: libs/",
        ]
        key = _template_key(service.image)
        values += [
            f'components.{service.name}.image.repository: "{{{{.IMAGE_REPO_{key}}}}}"',
            f'components.{service.name}.image.tag: "{{{{.IMAGE_TAG_{key}}}}}"',
        ]
    text = replace_block(current, "service artifacts", artifacts, SKAFFOLD)
    return replace_block(text, "service images", values, SKAFFOLD)


def render_base_dockerfile(sources: Sources, current: str) -> str:
    folders: set[str] = set()
    for service in sources.catalog:
        folders.add(sources.folder(service))
        package = sources.package(service)
        if package:
            folders |= sources.workspace_needs(package)
    lines = [f"COPY {folder}/pyproject.toml {folder}/" for folder in sorted(folders)]
    return replace_block(current, "workspace manifests", lines, BASE_DOCKERFILE)
