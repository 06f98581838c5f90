"""`python -m tests.bench.footprint` (`make bench-footprint`): the resident memory of the whole local
stack, every process at idle and under the locust load, written as the `footprint` section of
docs/benchmarks.md (the rest of the page stays as the others wrote it).

Each round starts what `make up` runs, on free ports: PostgreSQL, nats-server, the mail catcher and
every service (the e2e harness's processes, auth's own keys, the `web` gateway in front, JSON logs
at INFO as in the chart). It waits until the machine is quiet and the stack has idled for
`--idle` seconds, reads /proc/<pid>/smaps_rollup of every process (RSS, PSS, USS), then runs locust
headless through the gateway (tests/load's locustfile) and keeps each figure's peak, sampled every
second. PostgreSQL is the postmaster and its backends summed, so PSS is its honest figure (shared
buffers count once); for the Python processes too, PSS shares the pages of the same libraries.

`--baseline DIR` (a checkout of another revision, e.g. `git archive <rev> | tar -x -C DIR`) runs
the services from DIR's sources (PYTHONPATH) in alternate rounds, so both are measured in the same
session on the same machine: before, after, before, after.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from brigade_common.devservers import free_port
from brigade_devstack.mailcatcher import MailCatcherServer
from tests.bench.cpu import CpuMeter, children, wait_quiet
from tests.bench.footprint_report import SECTION, Memory, Round, mib, render, total, with_footprint
from tests.bench.loop import cancel_on_signals
from tests.bench.machine import Machine
from tests.bench.options import ROOT
from tests.bench.servers import Infra, stop_process
from tests.e2e.harness import Stack, installed
from tests.load.runner import LocustRun, run_locust
from tests.load.stack import load_env, signing_in_through_auth, start_with_gateway


@dataclass(frozen=True)
class Options:
    idle_s: float
    users: int
    spawn_rate: float
    load_s: float
    think_s: str
    rounds: int
    baseline: Path | None
    out: Path | None
    quiet_wait_s: float
    save: Path | None = None
    render: Path | None = None
    baseline_label: str = ""


def parse(argv: Sequence[str]) -> Options:
    p = argparse.ArgumentParser(prog="python -m tests.bench.footprint", description=__doc__)
    p.add_argument("--idle", type=float, default=15.0, help="seconds the stack idles before the idle figures")
    p.add_argument("--users", type=int, default=20, help="locust users at the peak")
    p.add_argument("--spawn-rate", type=float, default=10.0)
    p.add_argument("--load", type=float, default=40.0, help="seconds of locust load")
    p.add_argument("--think", default="1,3", help="each user's pause between steps, seconds (LOAD_THINK_S)")
    p.add_argument("--rounds", type=int, default=1, help="rounds of each variant")
    p.add_argument("--baseline", type=Path, default=None, help="a checkout whose services run in alternate rounds")
    p.add_argument("--out", type=Path, default=ROOT / "docs/benchmarks.md", help="'-' to write nothing")
    p.add_argument("--quiet-wait", type=float, default=30.0)
    p.add_argument("--save", type=Path, default=None, help="keep the measured rounds in this file (pickle)")
    p.add_argument("--render", type=Path, default=None, help="measure nothing: write the rounds --save kept")
    p.add_argument("--baseline-label", default="", help="what the baseline is, for the page (e.g. its commit)")
    a = p.parse_args(argv)
    out = None if str(a.out) == "-" else a.out
    baseline = a.baseline.resolve() if a.baseline else None
    return Options(
        a.idle,
        a.users,
        a.spawn_rate,
        a.load,
        a.think,
        a.rounds,
        baseline,
        out,
        a.quiet_wait,
        a.save,
        a.render,
        a.baseline_label,
    )


# ------------------------------------------------------------------------------------- memory


def rollup(text: str) -> Memory:
    """A /proc/<pid>/smaps_rollup as Memory."""
    kib: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            kib[name] = int(parts[0])
    return Memory(kib.get("Rss", 0), kib.get("Pss", 0), kib.get("Private_Clean", 0) + kib.get("Private_Dirty", 0))


def memory(pids: Sequence[int]) -> Memory:
    """Summed over `pids` (a process gone in between counts nothing)."""
    total = Memory()
    for pid in pids:
        try:
            total += rollup(Path(f"/proc/{pid}/smaps_rollup").read_text())
        except OSError:
            continue
    return total


Groups = Mapping[str, Callable[[], list[int]]]


def sample(groups: Groups) -> dict[str, Memory]:
    return {name: memory(pids()) for name, pids in groups.items()}


# ----------------------------------------------------------------------------------------- run


def source_path(tree: Path) -> str:
    """PYTHONPATH that makes a child process import every Brigade package from `tree`."""
    dirs = sorted(str(p) for pattern in ("libs/*/src", "services/*/src", "tools/*/src") for p in tree.glob(pattern))
    return os.pathsep.join(dirs)


@contextmanager
def sources(tree: Path | None) -> Iterator[None]:
    """Children started inside run `tree`'s code (this checkout's when None)."""
    old = os.environ.get("PYTHONPATH")
    if tree is not None:
        os.environ["PYTHONPATH"] = source_path(tree)
    try:
        yield
    finally:
        if tree is not None:
            if old is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = old


def chart_env() -> dict[str, str]:
    """As in the Helm chart: JSON logs at INFO for every service."""
    return {
        f"{s.env_prefix}{key}": value
        for s in installed()
        for key, value in (("LOG_FORMAT", "json"), ("LOG_LEVEL", "INFO"))
    }


async def one_round(variant: str, tree: Path | None, opts: Options) -> tuple[Round, Machine]:
    res = Round(variant)
    infra = Infra(fast=False)
    catcher: MailCatcherServer | None = None
    with sources(tree):
        try:
            print(f"== {variant}: starting PostgreSQL, nats-server, the mail catcher and every service", flush=True)
            pg = infra.start_postgres()
            machine = Machine.probe(*(await infra.versions()))
            nats_server = infra.start_nats()
            database_url = await infra.fresh_database("footprint")
            catcher = MailCatcherServer(infra.root / "mail", free_port(), log_file=infra.root / "mail.log").start()
            overrides = {**chart_env(), "NOTIFICATIONS_SMTP_PORT": str(catcher.port)}
            stack = signing_in_through_auth(Stack(database_url, nats_server.url, infra.root, overrides))
            await stack.prepare()
            try:
                host = await start_with_gateway(stack)
                assert pg.proc is not None and nats_server.proc is not None and catcher.proc is not None
                pg_pid, nats_pid, mail_pid = pg.proc.pid, nats_server.proc.pid, catcher.proc.pid
                groups: dict[str, Callable[[], list[int]]] = {
                    n: (lambda s=s: [s.proc.pid] if s.proc is not None else [])
                    for n, s in sorted(stack.services.items())
                }
                groups |= {
                    "postgres": lambda: children(pg_pid),
                    "nats-server": lambda: [nats_pid],
                    "mail catcher": lambda: [mail_pid],
                }
                res.idle = await idle(groups, opts, "idle")
                res.backends["idle"] = len(children(pg_pid)) - 1
                await load(host, stack, groups, opts, res)
                print(f"   load: peak {mib(res.loaded_total.rss)} RSS, {mib(res.loaded_total.pss)} PSS", flush=True)
                res.settled = await idle(groups, opts, "after the load")
                res.backends["after"] = len(children(pg_pid)) - 1
            finally:
                stack.stop()
        finally:
            if catcher is not None:
                stop_process(catcher.proc)
            infra.close()
    return res, machine


async def idle(groups: Groups, opts: Options, what: str) -> dict[str, Memory]:
    """Every process's memory once the machine is quiet and the stack has idled `opts.idle_s`."""
    await wait_quiet(opts.quiet_wait_s)
    await asyncio.sleep(opts.idle_s)
    got = sample(groups)
    print(f"   {what}: {mib(total(got).rss)} MiB RSS, {mib(total(got).pss)} MiB PSS", flush=True)
    return got


async def load(host: str, stack: Stack, groups: Groups, opts: Options, res: Round) -> None:
    """Locust through the gateway; every process's memory sampled each second meanwhile."""
    env = {**load_env(stack), "LOAD_THINK_S": opts.think_s}
    run = LocustRun(host, opts.users, opts.spawn_rate, opts.load_s, env)
    meter = CpuMeter(groups)
    meter.start()
    locust = asyncio.ensure_future(asyncio.to_thread(run_locust, run, stack.tmp / "locust"))
    res.loaded = {n: Memory() for n in groups}
    while not locust.done():
        now = sample(groups)
        res.loaded = {n: res.loaded[n].peak(m) for n, m in now.items()}
        res.loaded_total = res.loaded_total.peak(total(now))
        res.backends["load"] = max(res.backends.get("load", 0), len(groups["postgres"]()) - 1)
        await asyncio.wait([locust], timeout=1.0)
    summary = await locust
    res.cpu = meter.stop()
    res.requests, res.failures = summary.total.requests, summary.failures
    res.rps = summary.total.requests / summary.elapsed_s if summary.elapsed_s else 0.0


async def measure(opts: Options) -> tuple[list[Round], Machine]:
    cancel_on_signals()
    rounds: list[Round] = []
    machine: Machine | None = None
    variants: list[tuple[str, Path | None]] = [("after", None)]
    if opts.baseline is not None:
        variants = [("before", opts.baseline), ("after", None)]
    for _ in range(opts.rounds):
        for name, tree in variants:
            res, machine = await one_round(name, tree, opts)
            rounds.append(res)
    assert machine is not None
    return rounds, machine


def causes_text(tree_label: str) -> str:
    """The import probe of `tests.bench.footprint_probe`, run in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.footprint_probe", "--markdown", "--label", tree_label],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    opts = parse(args)
    started = time.time()
    command = "uv run --frozen python -m tests.bench.footprint" + "".join(f" {a}" for a in args)
    if opts.render is not None:
        label, out = opts.baseline_label, opts.out
        rounds, machine, command, opts = pickle.loads(opts.render.read_bytes())
        opts = dataclasses.replace(opts, baseline_label=label or opts.baseline_label, out=out)
    else:
        try:
            rounds, machine = asyncio.run(measure(opts))
        except (KeyboardInterrupt, asyncio.CancelledError):
            print("interrupted: servers stopped, nothing written", file=sys.stderr)
            return 130
        if opts.save is not None:
            opts.save.write_bytes(pickle.dumps((rounds, machine, command, opts)))
    body = render(rounds, machine, opts, command, causes_text("this checkout"))
    print("\n" + body)
    print(f"\n({time.time() - started:.0f} s)")
    if opts.out is not None:
        old = opts.out.read_text() if opts.out.exists() else "# Benchmarks\n"
        opts.out.write_text(with_footprint(old, body))
        print(f"wrote the {SECTION} section of {opts.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
