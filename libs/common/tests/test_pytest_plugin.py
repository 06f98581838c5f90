"""The common pytest plugin's own behaviour, run as pytest runs it: in a subprocess, with xdist."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

GROUPED = """
import os
import pytest

@pytest.mark.xdist_group("stack")
@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    print("worker", os.environ["PYTEST_XDIST_WORKER"])
"""


def test_the_tests_of_one_xdist_group_run_on_one_worker(pytester: pytest.Pytester) -> None:
    # One control plane, one contract stack per run: what the groups are for.
    pytester.makepyfile(test_grouped=GROUPED)
    result = pytester.runpytest_subprocess(
        "-p", "brigade_common.testing.pytest_plugin", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=6)
    workers = set(re.findall(r"\[(gw\d)\] .*PASSED", result.stdout.str()))
    assert len(workers) == 1, result.stdout.str()
