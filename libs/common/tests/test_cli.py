"""Command dispatch for `python -m brigade_<svc>`, and serving a real app in a real process."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import httpx
import pytest

from brigade_common.cli import main, usage
from brigade_common.devservers import free_port


def api() -> None:
    """Serve the HTTP API."""


def worker() -> int:
    """Run the JetStream consumers.

    More detail that the usage line leaves out.
    """
    return 3


COMMANDS = {"api": api, "worker": worker}


def test_usage_lists_each_command_with_its_first_docstring_line() -> None:
    assert usage(COMMANDS, "python -m brigade_kitchen") == (
        "usage: python -m brigade_kitchen <command>\n\ncommands:\n"
        "  api     Serve the HTTP API.\n"
        "  worker  Run the JetStream consumers."
    )


def test_a_command_runs_and_its_result_is_the_exit_code() -> None:
    assert main(COMMANDS, ["api"]) == 0
    assert main(COMMANDS, ["worker"]) == 3


@pytest.mark.parametrize("argv", [["-h"], ["--help"], ["help"]])
def test_help_prints_usage_and_succeeds(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(COMMANDS, argv, prog="svc") == 0
    assert "usage: svc <command>" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [([], "usage: svc"), (["serve"], "unknown command 'serve'"), (["api", "--port", "1"], "takes no arguments")],
)
def test_bad_invocations_exit_2_with_usage_on_stderr(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(COMMANDS, argv, prog="svc") == 2
    err = capsys.readouterr().err
    assert message in err
    assert "worker  Run the JetStream consumers." in err


APP_SCRIPT = """
import asyncio
import logging
import sys
from contextlib import asynccontextmanager

from starlette.responses import PlainTextResponse
from starlette.routing import Route

from brigade_common.cli import main, serve
from brigade_common.http import create_app

FAIL = sys.argv[2] == "fail"
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")


async def slow(request):
    # Holds the request open until the test writes a line on stdin.
    print("slow-started", file=sys.stderr, flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return PlainTextResponse("finished " + line.strip())


@asynccontextmanager
async def lifespan(app):
    if FAIL:
        raise RuntimeError("cannot reach the database")
    print("started", flush=True)
    yield
    print("stopped", flush=True)


def api():
    \"\"\"Serve the API.\"\"\"
    serve(lambda: create_app(service="demo", routes=[Route("/slow", slow)], lifespan=lifespan),
          host="127.0.0.1", port=int(sys.argv[3]), log_level="info")


raise SystemExit(main({"api": api}, sys.argv[1:2]))
"""


def start(tmp_path: Path, mode: str, port: int) -> subprocess.Popen[str]:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(APP_SCRIPT))
    return subprocess.Popen(
        [sys.executable, str(script), "api", mode, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(stream: IO[str], marker: str) -> None:
    for line in stream:
        if marker in line:
            return
    raise AssertionError(f"the server exited before printing {marker!r}")


def wait_for_health(proc: subprocess.Popen[str], port: int) -> httpx.Response:
    """Poll until the server answers (a condition, bounded by a deadline) or the process dies."""
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, proc.communicate()
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.05)


def test_serve_runs_the_app_and_shuts_down_gracefully_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = start(tmp_path, "ok", port)
    try:
        r = wait_for_health(proc, port)
        assert r.json() == {"status": "ok"}
        assert "server" not in r.headers
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lifespan_lines = [line for line in out.splitlines() if line in ("started", "stopped")]
    assert lifespan_lines == ["started", "stopped"]


def test_an_in_flight_request_finishes_during_graceful_shutdown(tmp_path: Path) -> None:
    port = free_port()
    proc = start(tmp_path, "ok", port)
    assert proc.stdin is not None
    assert proc.stderr is not None
    try:
        wait_for_health(proc, port)
        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(httpx.get, f"http://127.0.0.1:{port}/slow", timeout=30)
            read_until(proc.stderr, "slow-started")
            proc.send_signal(signal.SIGTERM)
            read_until(proc.stderr, "Waiting for connections to close")
            proc.stdin.write("go\n")
            proc.stdin.flush()
            assert in_flight.result().text == "finished go"
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_serve_exits_non_zero_when_the_app_cannot_start(tmp_path: Path) -> None:
    proc = start(tmp_path, "fail", free_port())
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert "cannot reach the database" in err


REPLICA_SCRIPT = """
import asyncio
import sys
from contextlib import asynccontextmanager

from brigade_common.cli import serve
from brigade_common.http import create_app

name, port, own, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


@asynccontextmanager
async def lifespan(app):
    if mode == "slow":  # a start that takes until the test writes a line on stdin
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    yield


def app():
    built = create_app(service="demo", lifespan=lifespan)
    built.state.instance = name
    return built


serve(app, host="127.0.0.1", port=port, reuse_port=mode != "exclusive", instance_port=own)
"""


def replica(tmp_path: Path, name: str, port: int, own: int, mode: str = "ok") -> subprocess.Popen[str]:
    script = tmp_path / "replica.py"
    script.write_text(textwrap.dedent(REPLICA_SCRIPT))
    return subprocess.Popen(
        [sys.executable, str(script), name, str(port), str(own), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def answered_by(port: int) -> str:
    """The instance behind `port` for one new connection (module-level httpx: a fresh client each time)."""
    r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
    assert r.status_code == 200
    return str(r.json()["instance"])


def test_replicas_share_a_port_and_one_still_starting_gets_none_of_its_connections(tmp_path: Path) -> None:
    shared, own_a, own_b = free_port(), free_port(), free_port()
    a = replica(tmp_path, "demo-1", shared, own_a)
    b = replica(tmp_path, "demo-2", shared, own_b, mode="slow")
    procs = [a, b]
    try:
        wait_for_health(a, own_a)
        assert answered_by(own_a) == "demo-1"
        # demo-2 has bound the shared port but is still starting: it does not listen yet.
        assert {answered_by(shared) for _ in range(20)} == {"demo-1"}

        assert b.stdin is not None
        b.stdin.write("go\n")
        b.stdin.flush()
        wait_for_health(b, own_b)
        assert answered_by(own_b) == "demo-2"
        deadline = time.monotonic() + 20
        seen: set[str] = set()
        while seen != {"demo-1", "demo-2"}:
            assert time.monotonic() < deadline, f"only {seen} answered on the shared port"
            seen.add(answered_by(shared))

        # Without SO_REUSEPORT the taken port is refused, as for any server: two stacks never share it.
        intruder = replica(tmp_path, "other", shared, free_port(), mode="exclusive")
        procs.append(intruder)
        _, err = intruder.communicate(timeout=30)
        assert intruder.returncode == 3
        assert f"cannot listen on 127.0.0.1:{shared}" in err
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            proc.communicate(timeout=30)
