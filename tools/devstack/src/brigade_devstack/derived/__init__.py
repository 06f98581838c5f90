"""Files derived from the service catalog (brigade_common.catalog): `make catalog` writes them, and
tests/test_catalog.py fails, naming the file and the command, when a committed one has drifted.

Helm and Skaffold cannot ask Python which services exist, so what they need is written into their
own files: whole files where the file is only that (the route table, the charts' view of the
services), marked blocks where a hand-written file has a generated part (the Skaffold artifacts).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from brigade_devstack.derived import chart, routes, skaffold
from brigade_devstack.derived.sources import Sources


@dataclass(frozen=True)
class Derived:
    path: str  # relative to the repository root
    render: Callable[[Sources, str], str]  # (catalog and repository, current text) -> the text it must have


FILES: tuple[Derived, ...] = (
    Derived(routes.ROUTES_FILE, routes.render),
    Derived(chart.CHART_CATALOG, chart.render_components),
    Derived(chart.POSTGRES_ROLES, chart.render_roles),
    Derived(skaffold.SKAFFOLD_FILE, skaffold.render),
)


def _current(sources: Sources, derived: Derived) -> str:
    path = sources.root / derived.path
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def drift(sources: Sources, *, context: int = 12) -> list[str]:
    """One message per derived file that is not what the catalog makes of it, with the start of the diff."""
    messages = []
    for derived in FILES:
        current = _current(sources, derived)
        wanted = derived.render(sources, current)
        if wanted != current:
            committed = f"{derived.path} (committed)"
            diff = difflib.unified_diff(
                current.splitlines(), wanted.splitlines(), committed, "(from the catalog)", lineterm=""
            )
            shown = "\n".join(list(diff)[:context])
            messages.append(f"{derived.path} is out of date with the service catalog: run `make catalog`\n{shown}")
    return messages


def write(sources: Sources) -> list[Path]:
    """Bring every derived file up to date; returns the ones that changed."""
    written = []
    for derived in FILES:
        current = _current(sources, derived)
        wanted = derived.render(sources, current)
        if wanted != current:
            path = sources.root / derived.path
            path.write_text(wanted, encoding="utf-8")
            written.append(path)
    return written
