"""Suites that run only when asked for by path (`pytest tests/cluster`, `pytest tests/images`).

They need something `make test` cannot count on (a cluster, a container engine), so a bare `pytest`
over the repository leaves them out. Asked for without what they need, the run stops with exit code 3
and says why: such a suite never passes by skipping everything.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

MISSING_EXIT = 3


def asked_for(config: pytest.Config, suite: Path) -> bool:
    """True when a command-line path points into `suite` (testpaths alone do not count)."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return False
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path == suite or suite in path.parents:
            return True
    return False


def opt_in(config: pytest.Config, items: list[pytest.Item], suite: Path, missing: Callable[[], str | None]) -> None:
    """For pytest_collection_modifyitems: drop `suite`'s tests unless asked for; asked for, exit with
    MISSING_EXIT and the reason when `missing()` names something the suite cannot run without."""
    ours = [item for item in items if suite in Path(str(item.path)).resolve().parents]
    if not ours:
        return
    if not asked_for(config, suite):
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if item not in ours]
        return
    reason = missing()
    if reason is not None:
        pytest.exit(reason, returncode=MISSING_EXIT)
