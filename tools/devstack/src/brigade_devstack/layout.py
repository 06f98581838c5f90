"""Where things live: the repository root and the `.brigade/` data folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "BRIGADE_HOME"


def _is_workspace_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    try:
        return "[tool.uv.workspace]" in pyproject.read_text(encoding="utf-8")
    except OSError:
        return False


def find_repo_root(start: Path | None = None) -> Path:
    """The uv workspace root above `start` (default: the working directory), else above this file."""
    for base in (start or Path.cwd(), Path(__file__).resolve()):
        for candidate in (base, *base.parents):
            if _is_workspace_root(candidate):
                return candidate
    return (start or Path.cwd()).resolve()


@dataclass(frozen=True)
class Layout:
    """Every path the stack reads or writes; `home` is relocatable with $BRIGADE_HOME."""

    root: Path
    home: Path

    @classmethod
    def discover(cls) -> Layout:
        root = find_repo_root()
        home = os.environ.get(HOME_ENV)
        return cls(root=root, home=Path(home).resolve() if home else root / ".brigade")

    @property
    def pg_data(self) -> Path:
        return self.home / "postgres"

    @property
    def nats_store(self) -> Path:
        return self.home / "nats"

    @property
    def nats_cluster(self) -> Path:
        """The servers of a NATS cluster (BRIGADE_NATS_NODES), a folder each."""
        return self.home / "nats-cluster"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def routes_file(self) -> Path:
        return self.root / "infra" / "helm" / "brigade" / "routes.yaml"

    @property
    def static_dir(self) -> Path:
        return self.root / "services" / "web" / "frontend" / "dist"

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"
