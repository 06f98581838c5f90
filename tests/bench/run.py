"""The whole bench run: floors, the plain route, the kitchen scenarios, the profile."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from brigade_common.devservers import NatsServer, free_port
from tests.bench import floor, plain_route
from tests.bench.cpu import CpuMeter, children, wait_quiet
from tests.bench.holds import Holds
from tests.bench.hops import Hop, Window, hop_timeline, in_warehouse
from tests.bench.httpclient import HttpConnection, HttpLoad, OrderRequests, get_request
from tests.bench.loop import Timing, closed_loop
from tests.bench.machine import Machine
from tests.bench.measure import measured_step
from tests.bench.options import ROOT, Options
from tests.bench.profiling import ProfileSummary, summarise
from tests.bench.scenarios import (
    DISH,
    HUGE,
    RECIPE,
    SCENARIOS,
    check_invariants,
    make_stack,
    order_load,
    purchases_per_request,
    restock,
    run_orders,
    saga_timeline,
)
from tests.bench.servers import Infra, stop_process
from tests.bench.stats import Step
from tests.e2e.harness import ServiceProcess, Stack

ADMISSION = "KITCHEN_MAX_CONCURRENT_RESERVATIONS"
ORDERS = "/api/kitchen/orders"


@dataclass
class Results:
    machine: Machine | None = None
    floors: list[Step] = field(default_factory=list)
    # Keyed by section: "plain", "pantry", "pantry-before", "warehouse", "market", and the same with
    # a "durable:" prefix for the run with PostgreSQL's default durability settings.
    sections: dict[str, list[Step]] = field(default_factory=dict)
    profile: ProfileSummary | None = None
    profile_step: Step | None = None
    checks: dict[str, str] = field(default_factory=dict)
    hops: dict[str, list[Hop]] = field(default_factory=dict)  # by section, of the scenarios with supply
    # By section and clients: each delivered supply request's seconds in the warehouse.
    in_warehouse: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    # By section (`replicas-<n>`: n kitchen processes) and clients: how long the orders held the dish's pantry rows.
    held: dict[str, dict[int, Holds]] = field(default_factory=dict)


@dataclass
class ProfiledService(ServiceProcess):
    """A service process under tests.bench.profiled (cProfile switched on and off by signals)."""

    stats_file: Path = Path("kitchen.prof")

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.profiled", str(self.stats_file), f"brigade_{self.name}", "api"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )


def _meter(infra: Infra, **pids: int | list[int]) -> CpuMeter:
    """CPU by process group: the bench, each named process (or list of them: a service's replicas
    count as one group), PostgreSQL with its backends."""
    groups = {"bench": lambda: [os.getpid()]}
    for name, group in pids.items():
        members = list(group) if isinstance(group, list) else [group]
        groups[name] = lambda members=members: members  # type: ignore[misc]
    if infra.pg is not None and infra.pg.proc is not None:
        pg_pid = infra.pg.proc.pid
        groups["postgres"] = lambda: children(pg_pid)
    return CpuMeter(groups)


def _pid(server: NatsServer) -> int:
    assert server.proc is not None
    return server.proc.pid


def _stack_pids(stack: Stack) -> dict[str, list[int]]:
    """service → the pids of its processes (`kitchen-1` and `kitchen-2` both count as `kitchen`)."""
    out: dict[str, list[int]] = {}
    for s in stack.services.values():
        if s.proc is not None:
            out.setdefault(s.service, []).append(s.proc.pid)
    return out


async def run_floors(infra: Infra, opts: Options, res: Results) -> None:
    nats_server = infra.start_nats()
    try:
        print("== floor: JetStream publish→consume", flush=True)
        await wait_quiet(opts.quiet_wait_s)
        for step in await floor.jetstream_round_trip(nats_server.url, opts.concurrency, opts.floor_timing):
            print(step.summary(), flush=True)
            res.floors.append(step)
    finally:
        infra.stop_nats(nats_server)
    print("== floor: asyncpg transaction", flush=True)
    await wait_quiet(opts.quiet_wait_s)
    url = await infra.fresh_database("floor")
    for step in await floor.postgres_transaction(url, opts.concurrency, opts.floor_timing):
        print(step.summary(), flush=True)
        res.floors.append(step)


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A Python child in its own session, output to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


async def _wait_http(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    probe = get_request(port, "/ready")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the plain route exited with {proc.returncode}")
        conn = HttpConnection("127.0.0.1", port)
        try:
            await conn.request(probe)
            return
        except OSError:
            await asyncio.sleep(0.1)
        finally:
            conn.close()
    raise RuntimeError("the plain route did not start")


async def run_plain(infra: Infra, opts: Options, res: Results, key: str) -> None:
    print(f"== {key}: plain Starlette route", flush=True)
    url = await infra.fresh_database("plain")
    await plain_route.prepare(url, {i: HUGE for i in RECIPE})
    port = free_port()
    env = {
        **os.environ,
        "PLAIN_DATABASE_URL": url,
        "PLAIN_PORT": str(port),
        "PLAIN_POOL_SIZE": str(opts.plain_pool),
        "PLAIN_RECIPES": json.dumps({DISH: RECIPE}),
    }
    proc = _spawn(["-m", "tests.bench.plain_route"], env, infra.root / "plain.log")
    steps = []
    try:
        await _wait_http(port, proc)
        meter = _meter(infra, plain=proc.pid)
        for c in opts.concurrency:
            step = await measured_step(
                "plain route",
                lambda c=c: HttpLoad(OrderRequests("127.0.0.1", port, [], DISH, path="/orders"), c),  # type: ignore[misc]
                c,
                opts.timing,
                meter,
                quiet_wait_s=opts.quiet_wait_s,
                retries=opts.retries,
            )
            print(step.summary(), flush=True)
            steps.append(step)
    finally:
        stop_process(proc)
    res.sections[key] = steps


async def _scenario_stack(
    infra: Infra, scenario_key: str, extra: dict[str, str], profiled: Path | None = None
) -> tuple[Stack, NatsServer]:
    scenario = SCENARIOS[scenario_key]
    nats_server = infra.start_nats()
    url = await infra.fresh_database(scenario_key)
    tmp = Path(tempfile.mkdtemp(prefix=f"{scenario_key}-", dir=infra.root))
    stack = make_stack(url, nats_server.url, tmp, scenario, extra)
    await stack.prepare()
    await restock(url, scenario)
    if profiled is not None:
        port = free_port()
        stack.services["kitchen"] = ProfiledService(
            "kitchen", stack._env("kitchen", port), port, tmp / "kitchen.log", stats_file=profiled
        )
    return stack, nats_server


async def run_scenario(
    infra: Infra, opts: Options, res: Results, key: str, scenario_key: str, extra: dict[str, str], label: str
) -> None:
    print(f"== {key}: {label}", flush=True)
    stack, nats_server = await _scenario_stack(infra, scenario_key, extra)
    try:
        await stack.start("market", "warehouse", "kitchen")
        meter = _meter(infra, nats=_pid(nats_server), **_stack_pids(stack))
        windows: list[Window] = []
        held = res.held[key] = {}
        res.sections[key] = await run_orders(
            stack,
            label,
            opts.concurrency,
            opts.timing,
            meter,
            quiet_wait_s=opts.quiet_wait_s,
            retries=opts.retries,
            windows=windows,
            held=held,
        )
        res.checks[key] = await check_invariants(stack.database_url)
        bought = await purchases_per_request(stack.database_url)
        if bought:
            res.checks[key] += f"; {bought}"
        timeline = await saga_timeline(stack.database_url)
        if timeline:
            res.checks[key] += f"; {timeline}"
            res.hops[key] = await hop_timeline(stack.database_url, nats_server.url, windows)
            res.in_warehouse[key] = await in_warehouse(stack.database_url, windows)
        print(f"   {res.checks[key]}", flush=True)
    finally:
        stack.stop()
        infra.stop_nats(nats_server)


def replicas_label(n: int) -> str:
    return f"(a) {n} kitchen process" + ("es" if n > 1 else "")


def processes_of(step: Step) -> int:
    """The number of kitchen processes of a step of the replicas comparison (from its `replicas_label`)."""
    return int(step.label.split()[1])


async def run_replicas(infra: Infra, opts: Options, res: Results) -> None:
    """(a) with the kitchen as 1, then 2 (…) processes sharing its port: a fresh stack for each count."""
    steps: list[Step] = []
    checks = []
    for n in opts.kitchen_replicas:
        label = replicas_label(n)
        print(f"== replicas: {label}", flush=True)
        stack, nats_server = await _scenario_stack(infra, "pantry", {"KITCHEN_REPLICAS": str(n)})
        try:
            await stack.start("market", "warehouse", "kitchen")
            meter = _meter(infra, nats=_pid(nats_server), **_stack_pids(stack))
            steps += await run_orders(
                stack,
                label,
                list(opts.replicas_concurrency),
                opts.timing,
                meter,
                quiet_wait_s=opts.quiet_wait_s,
                retries=opts.retries,
                held=res.held.setdefault(f"replicas-{n}", {}),
            )
            # How the kernel spread the clients' connections: the orders each replica answered.
            spread = []
            for replica in stack.replicas("kitchen"):
                if replica.own_port:
                    answered = await replica.metric("brigade_http_requests_total", method="POST", route=ORDERS)
                    spread.append(f"{replica.name} {answered:.0f}")
            taken = f"; orders answered (all its steps, warm-ups included) by {', '.join(spread)}" if spread else ""
            checks.append(f"{label}: {await check_invariants(stack.database_url)}{taken}")
            print(f"   {checks[-1]}", flush=True)
        finally:
            stack.stop()
            infra.stop_nats(nats_server)
    res.sections["replicas"] = steps
    res.checks["replicas"] = "; ".join(checks)


async def run_profile(infra: Infra, opts: Options, res: Results) -> None:
    print("== profile: kitchen under cProfile, (a) at 16 clients", flush=True)
    stats_file = infra.root / "kitchen.prof"
    stack, nats_server = await _scenario_stack(infra, "pantry", {}, profiled=stats_file)
    try:
        await stack.start("market", "warehouse", "kitchen")
        kitchen = stack.services["kitchen"]
        assert kitchen.proc is not None
        meter = _meter(infra, nats=_pid(nats_server), **_stack_pids(stack))
        load = order_load(stack, 16)
        await closed_loop("warm-up", load, 16, Timing(0.0, opts.warmup_s))
        await wait_quiet(opts.quiet_wait_s)
        kitchen.proc.send_signal(signal.SIGUSR1)
        meter.start()
        try:
            step = await closed_loop("(a) under cProfile", load, 16, Timing(0.0, opts.profile_s))
        finally:
            kitchen.proc.send_signal(signal.SIGUSR2)
            load.close()
        step.cpu = meter.stop()
        print(step.summary(), flush=True)
        for _ in range(100):
            if stats_file.exists() and stats_file.stat().st_size:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        res.profile_step = step
        res.profile = summarise(stats_file)
    finally:
        stack.stop()
        infra.stop_nats(nats_server)


async def run_all(opts: Options, res: Results) -> None:
    infra = Infra(fast=opts.fast)
    try:
        infra.start_postgres()
        pg_version, nats_version = await infra.versions()
        res.machine = Machine.probe(pg_version, nats_version)
        await run_floors(infra, opts, res)
        await run_plain(infra, opts, res, "plain")
        for key in opts.scenarios:
            scenario = SCENARIOS[key]
            await run_scenario(infra, opts, res, key, key, {}, scenario.title)
            if key == "pantry" and opts.baseline:
                await run_scenario(
                    infra, opts, res, "pantry-before", key, {ADMISSION: "0"}, "(a) before: no admission control"
                )
        if opts.kitchen_replicas:
            await run_replicas(infra, opts, res)
        if opts.profile_s > 0:
            await run_profile(infra, opts, res)
    finally:
        infra.close()
    if opts.durable:
        durable = Infra(fast=False)
        try:
            durable.start_postgres()
            await run_plain(durable, opts, res, "durable:plain")
            await run_scenario(
                durable, opts, res, "durable:pantry", "pantry", {}, "(a) everything in the pantry, durable"
            )
        finally:
            durable.close()
