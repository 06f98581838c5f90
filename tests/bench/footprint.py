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
from dataclasses import dataclass, field
from pathlib import Path

from brigade_common.devservers import free_port
from brigade_devstack.mailcatcher import MailCatcherServer
from tests.bench.cpu import CpuMeter, children, wait_quiet
from tests.bench.doc import section
from tests.bench.loop import cancel_on_signals
from tests.bench.machine import Machine
from tests.bench.options import ROOT
from tests.bench.servers import Infra, stop_process
from tests.e2e.harness import Stack, installed
from tests.load.runner import LocustRun, run_locust
from tests.load.stack import load_env, signing_in_through_auth, start_with_gateway

SECTION = "footprint"
# The section goes just before the load's, where a reader of the page looks for memory.
BEFORE = "<!-- load:begin -->"
AIM_SERVICE_MIB = 60
AIM_STACK_MIB = 800
INFRA = ("postgres", "nats-server", "mail catcher")


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


@dataclass(frozen=True)
class Memory:
    """KiB: resident, proportional (shared pages divided among their users), unique (private) set."""

    rss: int = 0
    pss: int = 0
    uss: int = 0

    def __add__(self, other: Memory) -> Memory:
        return Memory(self.rss + other.rss, self.pss + other.pss, self.uss + other.uss)

    def peak(self, other: Memory) -> Memory:
        return Memory(max(self.rss, other.rss), max(self.pss, other.pss), max(self.uss, other.uss))


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


def total(figures: Mapping[str, Memory]) -> Memory:
    out = Memory()
    for m in figures.values():
        out += m
    return out


@dataclass
class Round:
    variant: str
    idle: dict[str, Memory] = field(default_factory=dict)
    loaded: dict[str, Memory] = field(default_factory=dict)  # each process's peak under the load
    loaded_total: Memory = field(default_factory=Memory)  # the peak of the whole stack's sum
    settled: dict[str, Memory] = field(default_factory=dict)  # idle again, once the load is over
    backends: dict[str, int] = field(default_factory=dict)  # PostgreSQL's children: idle, load (max), after
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)


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


# -------------------------------------------------------------------------------------- render


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


def average(rounds: Sequence[Round], attr: str) -> dict[str, Memory]:
    """Per process, the mean over `rounds` of `attr` (idle or loaded)."""
    names = sorted({n for r in rounds for n in getattr(r, attr)}, key=order)
    out = {}
    for n in names:
        got = [getattr(r, attr)[n] for r in rounds if n in getattr(r, attr)]
        k = len(got)
        out[n] = Memory(sum(m.rss for m in got) // k, sum(m.pss for m in got) // k, sum(m.uss for m in got) // k)
    return out


def order(name: str) -> tuple[int, str]:
    return (1 if name in INFRA else 0, name)


def variants(rounds: Sequence[Round]) -> list[str]:
    return list(dict.fromkeys(r.variant for r in rounds))


def table(rounds: Sequence[Round]) -> list[str]:
    names = variants(rounds)
    by = {v: [r for r in rounds if r.variant == v] for v in names}
    idle = {v: average(rs, "idle") for v, rs in by.items()}
    loaded = {v: average(rs, "loaded") for v, rs in by.items()}
    settled = {v: average(rs, "settled") for v, rs in by.items()}
    whats = ("idle RSS", "idle PSS", "idle USS", "load RSS", "load PSS", "after RSS", "after PSS")
    cols = [f"{v}: {what}" for what in whats for v in names]
    lines = ["| process | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    processes = sorted({n for v in names for n in idle[v]}, key=order)
    figures = (
        (idle, "rss"),
        (idle, "pss"),
        (idle, "uss"),
        (loaded, "rss"),
        (loaded, "pss"),
        (settled, "rss"),
        (settled, "pss"),
    )
    for p in processes:
        cells = []
        for get, field_ in figures:
            for v in names:
                m = get[v].get(p)
                cells.append(mib(getattr(m, field_)) if m else "–")
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    cells = []
    for get, field_ in figures:
        for v in names:
            if get is loaded:  # the peak of the sum, not the sum of the peaks
                rs = by[v]
                cells.append(mib(sum(getattr(r.loaded_total, field_) for r in rs) / len(rs)))
            else:
                cells.append(mib(getattr(total(get[v]), field_)))
    lines.append("| **whole stack** | " + " | ".join(f"**{c}**" for c in cells) + " |")
    return lines


def aims(rounds: Sequence[Round]) -> list[str]:
    out = []
    for v in variants(rounds):
        idle = average([r for r in rounds if r.variant == v], "idle")
        services = {n: m for n, m in idle.items() if n not in INFRA}
        over = [f"{n} {mib(m.rss)}" for n, m in services.items() if m.rss / 1024 >= AIM_SERVICE_MIB]
        pss_over = [n for n, m in services.items() if m.pss / 1024 >= AIM_SERVICE_MIB]
        stack = total(idle)
        # As `make load` reports it: every process's RSS, but PostgreSQL's PSS (its shared buffers once).
        pg = idle.get("postgres", Memory())
        load_way = stack.rss - pg.rss + pg.pss

        def under(kib: float) -> str:
            return "under" if kib / 1024 < AIM_STACK_MIB else "over"

        out.append(
            f"- **{v}**: the whole stack at idle holds {mib(stack.pss)} MiB as PSS ({under(stack.pss)} "
            f"{AIM_STACK_MIB}), {mib(load_way)} MiB as RSS with PostgreSQL as PSS ({under(load_way)}), "
            f"{mib(stack.rss)} MiB as a plain sum of RSS ({under(stack.rss)}); services under {AIM_SERVICE_MIB} "
            f"MiB at idle: {len(services) - len(over)} of {len(services)} as RSS"
            + (f" (over: {', '.join(over)} MiB)" if over else "")
            + f", {len(services) - len(pss_over)} of {len(services)} as PSS."
        )
    return out


def rounds_table(rounds: Sequence[Round]) -> list[str]:
    lines = [
        "| round | variant | idle RSS / PSS MiB | load peak RSS / PSS MiB | requests (failed) | requests/s "
        "| CPU under load (cores) |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for i, r in enumerate(rounds, 1):
        idle = total(r.idle)
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in sorted(r.cpu.items()) if v >= 0.01)
        lines.append(
            f"| {i} | {r.variant} | {mib(idle.rss)} / {mib(idle.pss)} | {mib(r.loaded_total.rss)} / "
            f"{mib(r.loaded_total.pss)} | {r.requests} ({r.failures}) | {r.rps:.1f} | {cpu} |"
        )
    return lines


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def reading(rounds: Sequence[Round]) -> list[str]:
    """What the stack's figures say, from this run's rounds (the last variant is this checkout)."""
    names = variants(rounds)
    last = [r for r in rounds if r.variant == names[-1]]
    first = [r for r in rounds if r.variant == names[0]]

    def grew(rs: Sequence[Round], name: str, attr: str) -> float:
        return _mean([(getattr(r, attr)[name].rss - r.idle[name].rss) / 1024 for r in rs if name in r.idle])

    def shared(rs: Sequence[Round]) -> float:
        """MiB a Python process's RSS has over its PSS: pages it shares with the others, on average."""
        per = [(m.rss - m.pss) / 1024 for r in rs for n, m in r.idle.items() if n not in INFRA]
        return _mean(per)

    out = [
        "**Reading the stack.** "
        f"Each Python process's RSS is {shared(last):.0f} MiB over its PSS: code pages it shares with the "
        "others (the interpreter, pydantic-core, cryptography, libcrypto, uvloop…), which RSS counts in each "
        "process and PSS once; that is why the plain sum of RSS overstates what the machine holds. "
        f"Auth grew {grew(last, 'auth', 'loaded'):.0f} MiB under the load (sampled each second): up to "
        "argon2id's memory per hash (`AUTH_ARGON2_MEMORY_KIB`, 19 MiB, the OWASP minimum) times the hashes it "
        "runs at once (`AUTH_HASH_CONCURRENCY`, 2), what the settings ask for. "
    ]
    if len(names) > 1:
        out.append(
            f"Once the load was over it still held {grew(first, 'auth', 'settled'):.0f} MiB more than at idle "
            f"{names[0]} and {grew(last, 'auth', 'settled'):.0f} MiB {names[-1]}: each hashing thread had a glibc "
            "malloc arena of its own, where a freed buffer stays resident; auth's process now keeps one arena "
            "for every thread (`one_malloc_arena`), and a freed buffer goes back to the system. "
        )
    backends = {k: _mean([r.backends.get(k, 0) for r in last]) for k in ("idle", "load", "after")}
    pg_after = _mean([r.settled["postgres"].pss / 1024 for r in last if "postgres" in r.settled])
    pg_idle = _mean([r.idle["postgres"].pss / 1024 for r in last if "postgres" in r.idle])
    out.append(
        f"PostgreSQL ran {backends['idle']:.0f} processes at idle (eight of its own, the others the "
        f"services' connections: pools start at `min_size=1`), {backends['load']:.0f} at the peak of the load "
        f"and {backends['after']:.0f} after it: asyncpg keeps a pool's idle connection for five minutes "
        "(`max_inactive_connection_lifetime`), "
        f"so PostgreSQL's PSS stays at {pg_after:.0f} MiB rather than {pg_idle:.0f} until they close; each backend "
        "is a few MiB of its own, the rest of its RSS is the shared buffers counted once per backend. "
        "nats-server (Go) grew under the load with the streams' messages; the mail catcher is one small "
        "Python process (aiosmtpd)."
    )
    return ["".join(out), ""]


def variants_note(rounds: Sequence[Round], opts: Options) -> list[str]:
    if len(variants(rounds)) < 2:
        return []
    what = opts.baseline_label or str(opts.baseline)
    return [
        f"- *before*: the services of {what} (`--baseline`, on PYTHONPATH); *after*: this checkout's. The "
        "rounds alternate (before, after, before, …) in one session; the first table is each variant's mean."
    ]


def render(rounds: Sequence[Round], machine: Machine, opts: Options, command: str, causes: str) -> str:
    lines = [
        "## Footprint: resident memory of the local stack",
        "",
        f"Generated by `{command}` on {machine.date}. Re-run it to refresh the figures; the causes below are "
        "from the same session's probes (`tests/bench/footprint_probe.py`).",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in machine.rows()],
        "",
        "- Each round starts what `make up` runs on free ports: PostgreSQL (default durability), nats-server, "
        "the mail catcher and every service as its own process (the e2e harness's, with auth's own keys and "
        "the `web` gateway in front; JSON logs at INFO as in the chart). *Idle*: once the machine is quiet "
        f"and the stack has idled {opts.idle_s:g} s. *Load*: locust headless through the gateway "
        f"(tests/load's locustfile, {opts.users} users, think {opts.think_s} s, {opts.load_s:g} s), every "
        "process sampled each second, each figure's peak. *After*: idle again, as long, once the load is over.",
        *variants_note(rounds, opts),
        "- RSS counts every resident page a process maps; PSS divides a shared page among the processes that "
        "map it (the Python processes share the interpreter's and the libraries' code pages; PostgreSQL's "
        "backends its shared buffers), so the PSS column adds up to what the machine really holds; USS is "
        "what stopping the process would free. PostgreSQL is the postmaster and its backends summed.",
        "",
        *table(rounds),
        "",
        "Each round (whole stack):",
        "",
        *rounds_table(rounds),
        "",
        "**Aims** (each service under 60 MiB at idle, the whole stack under 800 MiB at idle):",
        "",
        *aims(rounds),
        "",
        *reading(rounds),
        causes.strip(),
    ]
    return "\n".join(lines)


def with_footprint(text: str, body: str) -> str:
    """`text` with the footprint section set to `body`: in place, else just before the load's section."""
    block = f"<!-- {SECTION}:begin -->\n{body.strip()}\n<!-- {SECTION}:end -->"
    old = section(text, SECTION)
    if old is not None:
        return text.replace(old, block)
    if BEFORE in text:
        return text.replace(BEFORE, f"{block}\n\n{BEFORE}", 1)
    return f"{text.rstrip()}\n\n{block}\n"


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
