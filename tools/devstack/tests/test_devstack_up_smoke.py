"""End to end: the real `python -m brigade_devstack up`, reached through the gateway, stopped with Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from brigade_common.devservers import free_port
from brigade_common.testing.waiting import eventually
from brigade_devstack.catalog import service_table
from tools.devstack.tests.devstack_testing import REPO_ROOT, alive

pytestmark = pytest.mark.slow


async def test_up_serves_through_the_gateway_and_stops_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ports = {spec.name: free_port() for spec in service_table()}
    env = {
        **os.environ,
        "BRIGADE_HOME": str(home),
        "BRIGADE_PG_PORT": str(free_port()),
        "BRIGADE_NATS_PORT": str(free_port()),
        "NO_COLOR": "1",
    }
    env.pop("NATS_URL", None)
    env.update({spec.port_env: str(ports[spec.name]) for spec in service_table()})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "brigade_devstack",
        "up",
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[str] = []

    async def drain() -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            output.append(line.decode(errors="replace"))

    reader = asyncio.create_task(drain())
    try:
        await eventually(
            lambda: any("Brigade is ready" in line for line in output) or proc.returncode is not None,
            timeout=150,
            what="Brigade is ready",
        )
        assert proc.returncode is None, "".join(output)
        state = json.loads((home / "run" / "processes.json").read_text())
        running = {entry["name"]: entry["pid"] for entry in state["processes"]}
        assert {"postgres", "nats", "web"} <= set(running)

        gateway = f"http://127.0.0.1:{ports['web']}"
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
            assert (await client.get("/readyz")).status_code == 200
            for name in set(running) & {s.name for s in service_table() if s.public and not s.gateway}:
                response = await client.get(f"/api/{name}/openapi.json")
                assert response.status_code == 200, (name, response.text)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 60)
        await reader
    assert code == 0, "".join(output[-40:])
    assert "Brigade stopped" in "".join(output)
    await eventually(
        lambda: not any(alive(pid) for pid in running.values()), timeout=5, what="every process of the stack to be gone"
    )
