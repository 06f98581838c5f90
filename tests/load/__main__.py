"""`python -m tests.load` (`make load`): run locust against Brigade, print the figures and record them in
docs/benchmarks.md (see `--help`)."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
import tempfile
from pathlib import Path

from tests.bench.cpu import CpuMeter, children
from tests.bench.doc import with_section
from tests.bench.loop import cancel_on_signals
from tests.bench.machine import Machine
from tests.bench.menu import reads_between, scrape
from tests.bench.scenarios import check_invariants, settle
from tests.bench.servers import Infra
from tests.e2e.harness import Stack
from tests.load.options import Options, parse
from tests.load.outage import OutageFigures, answers, database_outage, expected_only
from tests.load.report import OUTAGE_SECTION, SECTION, Results, lost_orders, outage_body, section_body, terminal
from tests.load.runner import LocustRun, Summary, run_locust
from tests.load.stack import (
    load_env,
    make_up_staff,
    pss_kib,
    rss_kib,
    signed_in,
    signing_in_through_auth,
    start_with_gateway,
)

# As in the Helm chart: JSON logs at INFO (the harness's default, console logs, costs more per request).
SERVICE_ENV = {
    f"{svc}_{key}": value
    for svc in ("AUTH", "KITCHEN", "WAREHOUSE", "MARKET", "WEB")
    for key, value in (("LOG_FORMAT", "json"), ("LOG_LEVEL", "INFO"))
}


def _command(argv: list[str]) -> str:
    # LOAD_ARGS is how `make load` passes flags: they are in argv already.
    env = " ".join(
        f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items()) if k.startswith("LOAD_") and k != "LOAD_ARGS"
    )
    cmd = "uv run --frozen python -m tests.load" + "".join(f" {shlex.quote(a)}" for a in argv)
    return f"{env} {cmd}".strip()


def _locust_run(opts: Options, host: str, env: dict[str, str]) -> LocustRun:
    return LocustRun(host, opts.users, opts.spawn_rate, opts.duration_s, {**env, "LOAD_THINK_S": opts.think_s})


async def _run_locust(run: LocustRun, workdir: Path) -> Summary:
    print(
        f"== locust: {run.users} users at {run.spawn_rate:g}/s for {run.duration_s:g} s against {run.host}", flush=True
    )
    return await asyncio.to_thread(run_locust, run, workdir, sys.stdout)


async def run_remote(opts: Options, command: str) -> Results:
    """Against a stack someone else started (LOAD_HOST): the demo staff user of `make up` unless LOAD_*
    says otherwise."""
    assert opts.host is not None
    with tempfile.TemporaryDirectory(prefix="brigade-load-") as tmp:
        summary = await _run_locust(_locust_run(opts, opts.host, make_up_staff()), Path(tmp))
    machine = Machine.probe("–", "–")
    memory = {"locust": summary.peak_rss_kib}
    cpu = {"locust": round(summary.cpu_s / summary.elapsed_s, 2)}
    return Results(opts, command, machine, summary, opts.host, False, memory_kib=memory, cpu=cpu)


async def run_local(opts: Options, command: str) -> Results:
    """Start everything on free ports, load it through the gateway, stop everything."""
    infra = Infra(fast=False)
    outage: OutageFigures | None = None
    try:
        print("== starting PostgreSQL, nats-server and the services", flush=True)
        infra.start_postgres()
        pg_version, nats_version = await infra.versions()
        machine = Machine.probe(pg_version, nats_version)
        nats_server = infra.start_nats()
        database_url = await infra.fresh_database("load")
        stack = signing_in_through_auth(Stack(database_url, nats_server.url, infra.root, dict(SERVICE_ENV)))
        await stack.prepare()
        try:
            host = await start_with_gateway(stack)
            pids = {n: s.proc.pid for n, s in stack.services.items() if s.proc is not None}
            assert infra.pg is not None and infra.pg.proc is not None and nats_server.proc is not None
            pg_pid, nats_pid = infra.pg.proc.pid, nats_server.proc.pid
            groups = {n: (lambda pid=pid: [pid]) for n, pid in pids.items()}
            meter = CpuMeter({**groups, "postgres": lambda: children(pg_pid), "nats-server": lambda: [nats_pid]})
            kitchen_port = [stack.services["kitchen"].port]
            reads_before = await scrape(kitchen_port)
            meter.start()
            locust = _run_locust(_locust_run(opts, host, load_env(stack)), infra.root / "locust")
            if opts.outage_s:
                probe = await signed_in(host)
                outage_run = database_outage(infra.pg, host, probe, at_s=opts.outage_at_s, down_s=opts.outage_s)
                summary, outage = await asyncio.gather(locust, outage_run)
            else:
                summary = await locust
            cpu = meter.stop()
            menu_reads = reads_between(reads_before, await scrape(kitchen_port))
            locust_cores = round(summary.cpu_s / summary.elapsed_s, 2)
            cpu["other"] = round(max(cpu.get("other", 0.0) - locust_cores, 0.0), 2)
            cpu["locust"] = locust_cores
            memory = {n: rss_kib(pid) for n, pid in pids.items()}
            memory["postgres"] = pss_kib(children(pg_pid))
            memory["nats-server"] = rss_kib(nats_pid)
            memory["locust"] = summary.peak_rss_kib
            print("== waiting for pending orders to settle, checking the invariants", flush=True)
            orders = await settle(database_url)
            check = await check_invariants(database_url)
        finally:
            stack.stop()
    finally:
        infra.close()
    return Results(opts, command, machine, summary, host, True, orders, memory, cpu, check, outage, menu_reads)


async def _main(opts: Options, command: str) -> Results:
    cancel_on_signals()
    return await (run_remote(opts, command) if opts.host else run_local(opts, command))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    opts = parse(args)
    try:
        res = asyncio.run(_main(opts, _command(args)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: everything stopped, nothing written", file=sys.stderr)
        return 130
    print(terminal(res))
    section, body = (OUTAGE_SECTION, outage_body(res)) if res.outage else (SECTION, section_body(res))
    if opts.out is not None:
        old = opts.out.read_text() if opts.out.exists() else "# Benchmarks\n"
        opts.out.write_text(with_section(old, section, body))
        print(f"\nwrote the `{section}` section of {opts.out}")
    if res.outage:  # failures are the outage's answers: only 503s, and no order lost, is a pass
        ok = expected_only(answers(res.summary.errors)) and lost_orders(res) == 0
        return 0 if ok and res.summary.exit_code in (0, 1) else 1
    return 0 if res.summary.failures == 0 and res.summary.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
