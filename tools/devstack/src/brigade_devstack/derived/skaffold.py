"""skaffold.yaml: the artifact of each service, and the chart values that point each component at the
image Skaffold built for it. (Dockerfile.base needs nothing per service: it finds them in uv.lock.)"""

from __future__ import annotations

import re

from brigade_devstack.derived.sources import Sources, replace_block

SKAFFOLD_FILE = "skaffold.yaml"


def _template_key(image: str) -> str:
    """Skaffold's name for an image in IMAGE_REPO_<key> / IMAGE_TAG_<key>."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", image)


def render(sources: Sources, current: str) -> str:
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
    text = replace_block(current, "service artifacts", artifacts, SKAFFOLD_FILE)
    return replace_block(text, "service images", values, SKAFFOLD_FILE)
