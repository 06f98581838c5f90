"""Which migration revision a schema is at and which one its scripts end at, without alembic.

A service process checks both for readiness; alembic (and SQLAlchemy under it, about 25 MiB of a
process's memory) is only needed by `migrate` (brigade_common.migrations), so this module reads
the scripts' `revision` / `down_revision` assignments itself and asks alembic only when a script
declares them in a way it cannot read as plain literals.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import asyncpg

from brigade_common.db import check_identifier

VERSION_TABLE = "alembic_version"
# The files alembic takes for revision scripts in `versions/` (its Script._only_source_rev_file).
_SCRIPT = re.compile(r"(?!\.\#|__init__)(.*\.py)$")


class _Unreadable(Exception):
    """A script declares its revision otherwise than as a literal: alembic decides."""


def _literals(path: Path) -> tuple[str, tuple[str, ...]]:
    """(revision, down revisions) of one script, from its module-level assignments."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision", "depends_on"):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                raise _Unreadable(path) from None
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str) or found.get("depends_on") is not None:
        raise _Unreadable(path)
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
        return revision, tuple(down)
    raise _Unreadable(path)


def _alembic_head(script_location: Path) -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    return ScriptDirectory.from_config(cfg).get_current_head()


def head_revision(script_location: Path) -> str | None:
    """The revision the scripts under `script_location/versions` end at (None without any), as
    alembic's `ScriptDirectory.get_current_head` answers: more than one head is alembic's error."""
    versions = script_location / "versions"
    scripts = sorted(p for p in versions.glob("*.py") if _SCRIPT.fullmatch(p.name)) if versions.is_dir() else []
    try:
        graph = dict(_literals(p) for p in scripts)
    except _Unreadable:
        return _alembic_head(script_location)
    downs = {d for ds in graph.values() for d in ds}
    heads = [r for r in graph if r not in downs]
    if len(heads) > 1 or (graph and not heads) or not downs <= graph.keys():
        return _alembic_head(script_location)  # its own error, word for word
    return heads[0] if heads else None


async def current_revision(conn: asyncpg.Connection | asyncpg.Pool, schema: str) -> str | None:
    """The revision the database is at, or None before the first migration."""
    table = f"{check_identifier(schema)}.{VERSION_TABLE}"
    exists = await conn.fetchval("SELECT to_regclass($1)", table)
    if exists is None:
        return None
    value: str | None = await conn.fetchval(f"SELECT version_num FROM {table}")  # noqa: S608
    return value
