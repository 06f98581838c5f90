"""`make catalog` (`python -m brigade_devstack catalog`): what it writes, what `--check` reports, and
the mistakes it refuses with the file or the service named."""

from __future__ import annotations

from pathlib import Path

import pytest

from brigade_common.catalog import build, load
from brigade_common.service import ServiceDefinition
from brigade_devstack.derived import FILES
from brigade_devstack.derived.chart import render_roles
from brigade_devstack.derived.command import catalog
from brigade_devstack.derived.sources import DerivedError, Sources, replace_block
from brigade_devstack.errors import DevstackError

SKAFFOLD = """\
build:
  artifacts:
    # >>> make catalog: service artifacts
    # <<< make catalog
deploy:
  helm:
    releases:
      - name: brigade
        setValueTemplates:
          # >>> make catalog: service images
          # <<< make catalog
"""


def test_a_block_is_replaced_between_its_markers_and_indented_like_them() -> None:
    text = "a:\n  # >>> make catalog: things\n  - old\n  # <<< make catalog\nb: 1\n"
    assert replace_block(text, "things", ["- one", "- two"], "f.yaml") == (
        "a:\n  # >>> make catalog: things\n  - one\n  - two\n  # <<< make catalog\nb: 1\n"
    )
    with pytest.raises(DerivedError, match=r"f.yaml: no `# >>> make catalog: other` line"):
        replace_block(text, "other", [], "f.yaml")
    with pytest.raises(DerivedError, match=r"f.yaml: the `things` block opened on line 1 has no `# <<< make catalog`"):
        replace_block("# >>> make catalog: things\n", "things", [], "f.yaml")


def test_check_lists_the_stale_files_and_a_write_brings_them_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "skaffold.yaml").write_text(SKAFFOLD)
    assert catalog(tmp_path, check=True) == 1
    reported = capsys.readouterr().err
    for derived in FILES:
        assert f"{derived.path} is out of date with the service catalog: run `make catalog`" in reported
    (tmp_path / "infra/helm/brigade").mkdir(parents=True)
    (tmp_path / "infra/helm/brigade-postgres").mkdir(parents=True)
    assert catalog(tmp_path) == 0
    every = ", ".join(load().names)  # whatever is installed: a new service must not break this test
    assert f"derived files up to date with the service catalog ({every})" in capsys.readouterr().out
    assert "image: brigade-kitchen" in (tmp_path / "skaffold.yaml").read_text()
    assert catalog(tmp_path, check=True) == 0


def test_a_file_without_its_markers_stops_the_command_naming_it(tmp_path: Path) -> None:
    (tmp_path / "skaffold.yaml").write_text("build: {}\n")
    with pytest.raises(DevstackError, match=r"skaffold.yaml: no `# >>> make catalog: service artifacts` line"):
        catalog(tmp_path, check=True)


def test_a_database_service_must_own_the_schema_of_its_name() -> None:
    kitchen = load().get("kitchen")
    other = ServiceDefinition("pastry", kitchen.settings, kitchen.app_factory, http_port=8097, schema="cakes")
    with pytest.raises(DerivedError, match=r"pastry: .* its schema must be 'pastry' \(it is 'cakes'\)"):
        render_roles(Sources(build([other]), Path()), "")
