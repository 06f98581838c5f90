"""The supervisor with real child processes: restarts, readiness, and a shutdown that leaves nothing."""

from __future__ import annotations

import itertools

from brigade_common.devservers import free_port
from brigade_common.testing.waiting import eventually
from brigade_devstack.backoff import CrashLoopBackOff
from brigade_devstack.process import run_once
from brigade_devstack.readiness import wait_ready
from brigade_devstack.supervisor import Supervisor
from tools.devstack.tests.devstack_testing import Fakes, alive, fake_spec


def readyz(port: int) -> str:
    return f"http://127.0.0.1:{port}/readyz"


async def test_a_crashing_service_is_restarted_with_growing_delays(fakes: Fakes) -> None:
    port = free_port()
    config = fakes.plan([fake_spec("alpha", port)])
    console, out = fakes.console(["alpha"])
    supervisor = Supervisor(console, backoff=lambda: CrashLoopBackOff(initial=0.2, cap=0.5))
    supervisor.launch_all(fakes.commands(config, {"alpha": "crash_first:3"}))
    try:
        assert await wait_ready({"alpha": readyz(port)}, console, timeout=20) == set()
    finally:
        await supervisor.stop()

    service = supervisor.services["alpha"]
    assert service.restarts == 3
    starts = [float(line.split()[1]) for line in fakes.lines("alpha", "starts")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(gaps) == 3
    assert gaps[0] >= 0.2
    assert gaps[1] >= 0.4
    assert gaps[2] >= 0.5  # capped
    text = out.getvalue()
    for n, delay in ((1, "0.2"), (2, "0.4"), (3, "0.5")):
        assert f"alpha exited (code 3), restarting in {delay} s (restart #{n})" in text
    log = (fakes.layout.logs / "alpha.log").read_text()
    assert "alpha crashing on start 1" in log
    assert "restarting in 0.5 s (restart #3)" in log


async def test_stop_leaves_no_process_behind(fakes: Fakes) -> None:
    ports = {"alpha": free_port(), "beta": free_port()}
    config = fakes.plan([fake_spec(name, port) for name, port in ports.items()])
    console, out = fakes.console(list(ports))
    supervisor = Supervisor(console, grace=1.0)
    # alpha forks a grandchild into its process group; beta ignores SIGTERM and must be killed.
    supervisor.launch_all(fakes.commands(config, {"alpha": "spawn_child", "beta": "ignore_term"}))
    try:
        urls = {name: readyz(port) for name, port in ports.items()}
        assert await wait_ready(urls, console, timeout=15) == set()
        await eventually(lambda: bool(fakes.lines("alpha", "children")), what="alpha's child")
        pids = [p for s in supervisor.services.values() if (p := s.pid) is not None]
        pids.append(int(fakes.lines("alpha", "children")[0]))
        assert len(pids) == 3
        assert all(alive(pid) for pid in pids)
    finally:
        await supervisor.stop()

    await eventually(lambda: not any(alive(pid) for pid in pids), timeout=5, what="every child to be gone")
    assert "beta did not stop within 1s: killing it" in out.getvalue()
    assert all(s.restarts == 0 for s in supervisor.services.values())


async def test_output_is_prefixed_and_logged(fakes: Fakes) -> None:
    port = free_port()
    config = fakes.plan([fake_spec("alpha", port)])
    console, out = fakes.console(["alpha", "longer-name"])
    supervisor = Supervisor(console)
    supervisor.launch_all(fakes.commands(config))
    try:
        assert await wait_ready({"alpha": readyz(port)}, console, timeout=15) == set()
        await eventually(lambda: "says hello on stderr" in out.getvalue(), what="stderr relayed")
    finally:
        await supervisor.stop()
    lines = out.getvalue().splitlines()
    assert f"alpha       | alpha listening on {port}" in lines  # stdout, padded to the longest name
    assert "alpha       | alpha says hello on stderr" in lines  # stderr
    assert "\033[" not in out.getvalue()  # not a terminal: no colour
    log = (fakes.layout.logs / "alpha.log").read_text()
    assert f"alpha listening on {port}\n" in log


async def test_readiness_waits_for_200_and_names_who_is_late(fakes: Fakes) -> None:
    port, nobody = free_port(), free_port()
    config = fakes.plan([fake_spec("alpha", port)])
    console, out = fakes.console(["alpha", "ghost"])
    supervisor = Supervisor(console)
    supervisor.launch_all(fakes.commands(config, {"alpha": "ready_after:3"}))  # 503 three times first
    try:
        assert await wait_ready({"alpha": readyz(port)}, console, timeout=15, interval=0.05) == set()
    finally:
        await supervisor.stop()
    assert "alpha is ready" in out.getvalue()

    late = await wait_ready({"ghost": readyz(nobody)}, console, timeout=0.6, interval=0.05, report_every=0.2)
    assert late == {"ghost"}
    assert "still waiting for /readyz of: ghost" in out.getvalue()


async def test_migrate_and_seed_are_one_shot_commands(fakes: Fakes) -> None:
    config = fakes.plan([fake_spec("alpha", free_port(), has_database=True)])
    console, out = fakes.console(["alpha"])
    svc = config.services[0]
    for verb in ("migrate", "seed"):
        command = config.command(svc, verb, {**fakes.environ, "FAKE_NAME": "alpha"})
        assert await run_once(command, console) == 0
    assert fakes.lines("alpha", "commands") == ["migrate", "seed"]
    assert "alpha    | alpha seed done" in out.getvalue().splitlines()  # padded to "devstack"

    environ = {**fakes.environ, "FAKE_NAME": "alpha", "FAKE_MIGRATE_EXIT": "4"}
    failing = config.command(svc, "migrate", environ)
    assert await run_once(failing, console) == 4
