"""The suites that need a cluster or a container engine stay out of `make test`, and asked for
without one they stop with exit code 3 and the reason, never a green run of nothing. tests/cluster
runs in `make test` on its local control plane, less the tests that need real pods (`kubelet`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.optin import MISSING_EXIT

REPO = Path(__file__).resolve().parents[1]


def run_pytest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("suite", "env", "reason"),
    [
        (
            "tests/cluster",
            {"KUBECONFIG": "/nonexistent/kubeconfig", "BRIGADE_KUBE": "current"},
            "no Kubernetes cluster reachable",
        ),
        ("tests/images", {"BRIGADE_CONTAINER_ENGINE": "no-such-engine"}, "no container engine answers"),
    ],
)
def test_asked_for_without_what_it_needs_a_suite_exits_3_and_says_why(
    suite: str, env: dict[str, str], reason: str
) -> None:
    result = run_pytest(suite, **env)
    assert result.returncode == MISSING_EXIT, result.stdout[-2000:] + result.stderr[-2000:]
    assert reason in result.stdout + result.stderr


def test_a_run_over_the_other_tests_leaves_the_images_and_the_real_pod_tests_out_and_says_so() -> None:
    result = run_pytest("--collect-only", "tests")
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert any(line.startswith("tests/test_optin.py::") for line in collected), result.stdout[-2000:]
    assert not [line for line in collected if line.startswith("tests/images/")]
    cluster = [line for line in collected if line.startswith("tests/cluster/")]
    assert any("test_chart_install.py::" in line for line in cluster), cluster
    # The order journey needs real pods: not collected here, and the summary says where it runs.
    assert not [line for line in cluster if "test_an_order_completes" in line or "test_the_ingress_answers" in line]
    assert "LeftToTheClusterRun: tests/cluster: 6 test(s) need real pods, left to `make test-cluster`" in result.stdout
