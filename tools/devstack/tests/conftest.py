"""Fixtures for the devstack tests; helpers live in devstack_testing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from brigade_devstack.layout import Layout
from tools.devstack.tests.devstack_testing import SUPPORT, Fakes


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    monkeypatch.syspath_prepend(str(SUPPORT))  # find_spec sees the fake service, as for a real one
    state = tmp_path / "state"
    state.mkdir()
    pythonpath = os.pathsep.join(p for p in (str(SUPPORT), os.environ.get("PYTHONPATH")) if p)
    environ = {**os.environ, "PYTHONPATH": pythonpath, "FAKE_STATE": str(state)}
    return Fakes(tmp_path, environ, state, Layout(root=tmp_path, home=tmp_path / "home"))
