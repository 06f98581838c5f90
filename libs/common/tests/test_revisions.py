"""The readiness check's head revision, read from the scripts without alembic: the same answer as
alembic's own for every service's migrations, and alembic's answer (or error) where it is unusual."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from brigade_common.catalog import load
from brigade_common.revisions import head_revision


def alembic_head(location: Path) -> str | None:
    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    return ScriptDirectory.from_config(cfg).get_current_head()


def scripts(tmp_path: Path, *revisions: tuple[str, str | None, str]) -> Path:
    """A migrations folder: (file name, down_revision as source text or None, revision)."""
    (tmp_path / "versions").mkdir()
    (tmp_path / "script.py.mako").write_text("")
    for name, down, revision in revisions:
        body = f'"""{name}"""\n\nrevision: str = "{revision}"\ndown_revision = {down}\n'
        body += "branch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    pass\n"
        (tmp_path / "versions" / name).write_text(body)
    return tmp_path


def test_every_services_head_is_the_one_alembic_reads() -> None:
    services = [s for s in load() if s.migrations_dir is not None]
    assert services
    for service in services:
        assert service.migrations_dir is not None
        assert head_revision(service.migrations_dir) == alembic_head(service.migrations_dir), service.name


def test_a_chain_ends_at_its_last_revision_whatever_the_file_names(tmp_path: Path) -> None:
    location = scripts(tmp_path, ("b.py", None, "first"), ("a.py", '"first"', "second"), ("c.py", '"second"', "third"))
    assert head_revision(location) == "third" == alembic_head(location)


def test_no_scripts_means_no_head(tmp_path: Path) -> None:
    location = scripts(tmp_path)
    assert head_revision(location) is None
    assert alembic_head(location) is None


def test_a_merge_revision_with_a_tuple_of_parents_is_the_head(tmp_path: Path) -> None:
    location = scripts(
        tmp_path,
        ("1.py", None, "root"),
        ("2.py", '"root"', "left"),
        ("3.py", '"root"', "right"),
        ("4.py", '("left", "right")', "merged"),
    )
    assert head_revision(location) == "merged" == alembic_head(location)


def test_two_heads_are_alembics_error(tmp_path: Path) -> None:
    location = scripts(tmp_path, ("1.py", None, "root"), ("2.py", '"root"', "left"), ("3.py", '"root"', "right"))
    with pytest.raises(CommandError) as ours:
        head_revision(location)
    with pytest.raises(CommandError) as theirs:
        alembic_head(location)
    assert str(ours.value) == str(theirs.value)


def test_a_revision_alembic_must_compute_is_left_to_alembic(tmp_path: Path) -> None:
    location = scripts(tmp_path, ("1.py", None, "root"), ("2.py", '"ro" + "ot"', "next"))
    assert head_revision(location) == "next" == alembic_head(location)
