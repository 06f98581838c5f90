"""`python -m tests.bench.menu`: measure the kitchen's menu reads through its JetStream KV cache and
write the `menu` section of docs/benchmarks.md (the rest of the page stays as the others wrote it).

Three kitchen processes (tests/e2e/harness.py) on one fresh database (seed 000) and one nats-server:
1. `GET /api/kitchen/dishes/{id}` (the menu's dishes in turn) and `GET /api/kitchen/dishes/today`
   at 1 and 16 closed-loop clients on the first kitchen, cache on, each followed by the same step on
   a third kitchen started with `KITCHEN_MENU_CACHE=false`, cache off; twice (`--rounds`).
2. The hit rate under a mixed load on both kitchens (today's menu, a dish, now and then a staff
   PATCH that invalidates): `kitchen_menu_cache_reads_total` of each kitchen's /metrics before and
   after.
3. Propagation: a dish PATCHed through one kitchen, both polled until they answer its new version.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from brigade_common.devservers import free_port
from tests.bench.cpu import CpuMeter, children, wait_quiet
from tests.bench.doc import measure_and_write
from tests.bench.httpclient import HttpConnection
from tests.bench.loop import Timing, closed_loop
from tests.bench.machine import Machine
from tests.bench.menu_loads import MixedLoad, ReadLoad, fetch_json, propagate, scrape
from tests.bench.menu_report import render
from tests.bench.menu_results import DISHES, SECTION, TODAY, Results, hit_rate, reads_between
from tests.bench.options import ROOT
from tests.bench.servers import Infra
from tests.e2e.harness import ServiceProcess, Stack


@dataclass(frozen=True)
class Options:
    warmup_s: float
    measure_s: float
    concurrency: list[int]
    mixed_s: float
    changes: int
    rounds: int
    out: Path
    quiet_wait_s: float


def parse(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(prog="python -m tests.bench.menu", description=__doc__)
    p.add_argument("--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP_S", "2")))
    p.add_argument("--measure", type=float, default=float(os.environ.get("BENCH_MEASURE_S", "8")))
    p.add_argument("--concurrency", default=os.environ.get("BENCH_CONCURRENCY", "1,16"))
    p.add_argument("--mixed", type=float, default=15.0, help="seconds of the mixed load (hit rate)")
    p.add_argument("--changes", type=int, default=30, help="PATCHes timed to both kitchens")
    p.add_argument("--rounds", type=int, default=2, help="on/off pairs of each read step")
    p.add_argument("--out", type=Path, default=ROOT / "docs/benchmarks.md")
    p.add_argument(
        "--quiet-wait", type=float, default=15.0, help="seconds at most to wait for a quiet machine before a step"
    )
    a = p.parse_args(argv)
    return Options(
        a.warmup,
        a.measure,
        [int(x) for x in a.concurrency.split(",")],
        a.mixed,
        a.changes,
        a.rounds,
        a.out,
        a.quiet_wait,
    )


async def run(opts: Options, res: Results) -> None:
    infra = Infra(fast=True)
    try:
        infra.start_postgres()
        pg_version, nats_version = await infra.versions()
        res.machine = Machine.probe(pg_version, nats_version)
        nats_server = infra.start_nats()
        url = await infra.fresh_database("menu")
        env = {"KITCHEN_LOG_FORMAT": "json", "KITCHEN_LOG_LEVEL": "INFO", "KITCHEN_MENU_CACHE": "true"}
        stack = Stack(url, nats_server.url, infra.root, env)
        await stack.prepare()
        extra: list[ServiceProcess] = []
        res.load = (os.getloadavg()[0], 0.0)
        try:
            await stack.start("kitchen")
            first = stack.services["kitchen"]
            # The second kitchen (cache on) shares the mixed load and the propagation; the third, cache
            # off, answers the off steps, each measured right after its on step, so that other work on
            # the machine weighs on both sides of a comparison alike.
            for name, cache in (("kitchen-2", "true"), ("kitchen-off", "false")):
                port = free_port()
                proc_env = {**first.env, "KITCHEN_HTTP_PORT": str(port), "KITCHEN_MENU_CACHE": cache}
                extra.append(ServiceProcess("kitchen", proc_env, port, infra.root / f"{name}.log"))
                extra[-1].start()
            await asyncio.gather(*(e.wait_ready() for e in extra))
            second, off = extra
            assert infra.pg is not None and infra.pg.proc is not None
            pg_pid = infra.pg.proc.pid
            assert nats_server.proc is not None
            nats_pid = nats_server.proc.pid
            meter = CpuMeter(
                {
                    "bench": lambda: [os.getpid()],
                    "kitchen": lambda: [first.proc.pid] if first.proc is not None else [],
                    "kitchen (off)": lambda: [off.proc.pid] if off.proc is not None else [],
                    "kitchen-2": lambda: [second.proc.pid] if second.proc is not None else [],
                    "nats-server": lambda: [nats_pid],
                    "postgres": lambda: children(pg_pid),
                }
            )
            probe = HttpConnection("127.0.0.1", first.port)
            try:
                today = await fetch_json(probe, first.port, TODAY)
                every = await fetch_json(probe, first.port, DISHES)
            finally:
                probe.close()
            assert isinstance(today, list) and today and isinstance(every, list)
            dish_ids = [str(d["id"]) for d in every]
            staff = stack.token("staff-bench", ("staff",))

            await read_steps({"on": first.port, "off": off.port}, dish_ids, opts, meter, res)
            off.stop()
            await wait_quiet(opts.quiet_wait_s)
            ports = [first.port, second.port]
            before = await scrape(ports)
            mixed = MixedLoad(ports, dish_ids, staff, 16)
            try:
                res.mixed = await closed_loop("mixed, both kitchens", mixed, 16, Timing(0, opts.mixed_s))
            finally:
                mixed.close()
            res.reads = reads_between(before, await scrape(ports))
            print(res.mixed.summary() + f"  reads {res.reads}  hit rate {hit_rate(res.reads):.1%}", flush=True)
            await propagate(ports, dish_ids[0], staff, opts.changes, res.propagation)
            p = res.propagation
            print(
                f"propagation: {len(p.from_send_s)} changes, send → everywhere p50 "
                f"{p.ms(p.from_send_s, 50):.1f} p99 {p.ms(p.from_send_s, 99):.1f} ms, missed {p.missed}",
                flush=True,
            )
            res.load = (res.load[0], os.getloadavg()[0])
        finally:
            for e in extra:
                e.stop()
            stack.stop()
    finally:
        infra.close()


async def read_steps(
    ports: Mapping[str, int], dish_ids: Sequence[str], opts: Options, meter: CpuMeter, res: Results
) -> None:
    """Each route at each client count, `opts.rounds` times: cache on, then off."""
    for label, paths in ((f"{DISHES}/{{id}}", [f"{DISHES}/{d}" for d in dish_ids]), (TODAY, [TODAY])):
        for c in opts.concurrency:
            for _ in range(opts.rounds):
                for cache, port in ports.items():
                    await wait_quiet(opts.quiet_wait_s)
                    load = ReadLoad(port, paths, c)
                    meter.start()
                    try:
                        step = await closed_loop(label, load, c, Timing(opts.warmup_s, opts.measure_s))
                    finally:
                        load.close()
                    step.cpu = meter.stop()
                    print(f"cache {cache:<3} " + step.summary(), flush=True)
                    res.steps.append((cache, step))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    opts = parse(args)
    res = Results()
    return measure_and_write(
        "tests.bench.menu", SECTION, args, opts.out, lambda: run(opts, res), lambda command: render(res, command)
    )


if __name__ == "__main__":
    sys.exit(main())
