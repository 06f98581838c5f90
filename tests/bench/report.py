"""docs/benchmarks.md: the machine, the method, the figures, the aims, the profile."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.bench import holds, hops
from tests.bench.options import Options
from tests.bench.profiling import ProfileSummary
from tests.bench.run import ADMISSION, Results, processes_of
from tests.bench.stats import Step, percentile

# What the replicas comparison's figures say (written from a run; the figures above it are the latest run's).
REPLICAS_NOTE = Path(__file__).with_name("replicas.md")
REPLICAS_AIM = 1.3

CPU_GROUPS = ("bench", "kitchen", "plain", "postgres", "nats", "warehouse", "market", "other")

HOPS_INTRO = (
    "Each JetStream hop of those orders, per message (tests/bench/hops.py): **relay** = the envelope's "
    "`occurred_at` (stamped in the sending transaction, just before its commit) → stored in the stream "
    "(commit, outbox relay, broker); **delivery** = stored → the handler's transaction begins (pull "
    "consumer, dispatch, `BEGIN`). The floor is the JetStream publish→consume p99 at the same clients. "
    "The order's last hop, the reserved event to the waiting request (a core subscription), is not in it."
)

TITLES = {
    "plain": "Plain route (tests/bench/plain_route.py): insert order, lock pantry rows, reserve, lines, commit",
    "pantry": "(a) everything in the pantry (201 reserved, no warehouse trip)",
    "pantry-before": f"(a) before: the same with admission control off ({ADMISSION}=0)",
    "warehouse": "(b) warehouse round trip (pantry at zero, warehouse stocked)",
    "market": "(c) market purchases (pantry and warehouse at zero)",
    "durable:plain": "Plain route, PostgreSQL default durability (fsync, synchronous_commit on)",
    "durable:pantry": "(a) everything in the pantry, PostgreSQL default durability",
}

METHOD = """\
- Closed loop: N clients each send `POST /api/kitchen/orders {{"dish_id": "ensalada-cesar", "quantity": 1}}`
  and send the next one as soon as the answer arrives. {warmup:g} s of warm-up per step (not measured),
  then {measure:g} s measured; a step is also capped at {max_requests} requests. orders/s counts the 2xx
  answers completed inside the measured window; latencies are those answers' (nearest-rank percentiles).
  Anything else (non-2xx, connection errors, no answer {grace:g} s after the window) is an error.
- The client is a minimal HTTP/1.1 keep-alive client on asyncio streams (tests/bench/httpclient.py), one
  connection per client, every request with a distinct `Idempotency-Key`, bearer tokens minted with
  `brigade_common.auth` for 8 customers in turn. **It runs on the same 2 cores as the services it
  measures**; its CPU share is the `bench` column.
- Services: the real market, warehouse and kitchen processes (tests/e2e/harness.py), defaults except
  JSON logs at INFO as in the Helm chart; a fresh database and nats-server per scenario, seed 000 then
  re-seeded for the case (ledger rows rewritten with the balances).
- PostgreSQL {pg_mode}.
- CPU columns: cores used per process (group) during the step, warm-up included, from /proc
  (`postgres` = postmaster and its backends); `other` = CPU the machine spent outside these processes.
  Before each step the bench waits (up to {quiet_wait:g} s) for the machine to be quiet, and a step during
  which other processes used more than 0.25 cores is measured again (up to {retries} time(s)), keeping
  the least disturbed; a large `other` still means the figures of that row are low.
- The floors: a JetStream hop (nats-py `js.publish` waiting for its ack, a durable pull consumer
  fetching up to 64 and acking, on a second connection) and a bare asyncpg transaction
  (`BEGIN; UPDATE one row; COMMIT`, each client on its own connection; "own row" = one row per client,
  "hot row" = all clients on the same row); {floor_measure:g} s measured after {floor_warmup:g} s each.
"""


def _f(x: float, digits: int = 1) -> str:
    return "–" if x is None or math.isnan(x) else f"{x:,.{digits}f}"


def _statuses(step: Step) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(step.statuses.items()))


def _cpu(step: Step) -> str:
    return " / ".join(f"{g} {step.cpu[g]:.2f}" for g in CPU_GROUPS if g in step.cpu)


def table(steps: Sequence[Step], unit: str = "orders/s", label: bool = False) -> list[str]:
    head = (
        "| what " if label else ""
    ) + f"| clients | {unit} | p50 ms | p95 ms | p99 ms | errors | answers | CPU (cores) |"
    sep = ("|---" if label else "") + "|---:|---:|---:|---:|---:|---:|---|---|"
    out = [head, sep]
    for s in steps:
        first = f"| {s.label} " if label else ""
        out.append(
            f"{first}| {s.concurrency} | {_f(s.rate)} | {_f(s.p50, 2)} | {_f(s.p95, 2)} | {_f(s.p99, 2)} "
            f"| {s.errors} | {_statuses(s)} | {_cpu(s)} |"
        )
    return out


def at(steps: Sequence[Step] | None, concurrency: int, label: str | None = None) -> Step | None:
    for s in steps or ():
        if s.concurrency == concurrency and (label is None or s.label.startswith(label)):
            return s
    return None


def aims(res: Results) -> list[str]:
    out = ["| aim | measured | met? |", "|---|---|---|"]
    plain16, a16, a64 = (
        at(res.sections.get("plain"), 16),
        at(res.sections.get("pantry"), 16),
        at(res.sections.get("pantry"), 64),
    )
    if plain16 and a16:
        ratio = a16.rate / plain16.rate if plain16.rate else math.nan
        out.append(
            f"| (a) at 16 clients ≥ 60% of the plain route's orders/s | {_f(a16.rate)} vs "
            f"{_f(plain16.rate)} = {ratio:.0%} | {'yes' if ratio >= 0.6 else 'no'} |"
        )
    if a16 and a64:
        ok = a64.rate >= a16.rate
        out.append(
            f"| (a) at 64 clients: orders/s ≥ at 16 | {_f(a64.rate)} vs {_f(a16.rate)} | {'yes' if ok else 'no'} |"
        )
        out.append(f"| (a) at 64 clients: p99 < 250 ms | {_f(a64.p99)} ms | {'yes' if a64.p99 < 250 else 'no'} |")
    dplain16, da16 = at(res.sections.get("durable:plain"), 16), at(res.sections.get("durable:pantry"), 16)
    if dplain16 and da16:
        ratio = da16.rate / dplain16.rate if dplain16.rate else math.nan
        out.append(
            f"| (a) at 16 clients ≥ 75% of the plain route's orders/s, PostgreSQL's default durability | "
            f"{_f(da16.rate)} vs {_f(dplain16.rate)} = {ratio:.0%} | {'yes' if ratio >= 0.75 else 'no'} |"
        )
    for c, one, many, n in replica_pairs(res.sections.get("replicas", [])):
        ratio = many / one if one else math.nan
        out.append(
            f"| {n} kitchen processes ≥ {REPLICAS_AIM}× one's orders/s, {c} clients | {_f(many)} vs {_f(one)} = "
            f"{ratio:.2f}× | {'yes' if ratio >= REPLICAS_AIM else 'no'} |"
        )
    for c in sorted({s.concurrency for s in res.sections.get("warehouse", [])}):
        b, fl = at(res.sections.get("warehouse"), c), at(res.floors, c, "JetStream")
        if b and fl:
            ratio = b.p99 / fl.p99
            out.append(
                f"| (b) p99 within 10× the JetStream round trip's p99, {c} clients | {_f(b.p99)} ms vs "
                f"{_f(fl.p99, 2)} ms = {ratio:.1f}× | {'yes' if ratio <= 10 else 'no'} |"
            )
            hop = hops.worst_p99_ms(res.hops.get("warehouse", []), c)
            if not math.isnan(hop):
                ratio = hop / fl.p99
                out.append(
                    f"| (b) each JetStream hop's p99 within 10× the floor's, {c} clients (the slowest hop) | "
                    f"{_f(hop)} ms = {ratio:.1f}× | {'yes' if ratio <= 10 else 'no'} |"
                )
        m = at(res.sections.get("market"), c)
        if b and m:
            market = _p99(res.in_warehouse.get("market", {}).get(c, [])) - _p99(
                res.in_warehouse.get("warehouse", {}).get(c, [])
            )
            bound = b.p99 + market
            out.append(
                f"| (c) p99 ≤ (b)'s plus the market's own latency, {c} clients (the market: the p99 of a "
                f"request's time in the warehouse in (c) less that in (b), {_f(market)} ms) | {_f(m.p99)} ms vs "
                f"{_f(b.p99)} + {_f(market)} = {_f(bound)} ms | {'yes' if m.p99 <= bound else 'no'} |"
            )
    return out


def _p99(seconds: Sequence[float]) -> float:
    return percentile(sorted(seconds), 99) * 1000 if seconds else math.nan


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def replica_pairs(steps: Sequence[Step]) -> list[tuple[int, float, float, int]]:
    """(clients, orders/s of one process, of the most processes, that count) per concurrency, each the
    mean of its repeats (BENCH_KITCHEN_REPLICAS=1,2,1,2 alternates them)."""
    counts = sorted({processes_of(s) for s in steps})
    if len(counts) < 2 or counts[0] != 1:
        return []
    out = []
    for c in sorted({s.concurrency for s in steps}):
        rates = {n: _mean([s.rate for s in steps if s.concurrency == c and processes_of(s) == n]) for n in counts}
        out.append((c, rates[1], rates[counts[-1]], counts[-1]))
    return out


def replicas_section(
    steps: Sequence[Step], checks: str, held: Mapping[int, Mapping[int, holds.Holds]] | None = None
) -> list[str]:
    counts = sorted({processes_of(s) for s in steps})
    out = [
        f"## Replicas: {' vs '.join(map(str, counts))} kitchen processes",
        "",
        "(a) everything in the pantry again, with the kitchen run as that many processes sharing its port "
        "(`KITCHEN_REPLICAS`, SO_REUSEPORT: the kernel spreads the clients' connections over them), each "
        "with its own pool of connections and its own admission limit; a fresh stack for each count. "
        "`kitchen` is the CPU of all its processes together.",
        "",
        *table(steps, label=True),
        "",
        "| clients | processes | orders/s | × one process | kitchen CPU per order | postgres cores | all cores used |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in sorted({s.concurrency for s in steps}):
        base = _mean([s.rate for s in steps if s.concurrency == c and processes_of(s) == 1])
        for n in counts:
            same = [s for s in steps if s.concurrency == c and processes_of(s) == n]
            rate = _mean([s.rate for s in same])
            per_order = _mean([s.cpu.get("kitchen", math.nan) / s.rate * 1000 for s in same if s.rate])
            postgres = _mean([s.cpu.get("postgres", math.nan) for s in same])
            used = _mean([sum(v for k, v in s.cpu.items()) for s in same])
            out.append(
                f"| {c} | {n} | {_f(rate)} | {rate / base if base else math.nan:.2f}× | {per_order:.2f} ms "
                f"| {postgres:.2f} | {used:.2f} |"
            )
    out.append("")
    for n, by_clients in sorted((held or {}).items()):
        if any(h.holds for h in by_clients.values()):
            out += [
                f"The dish's pantry rows with {n} kitchen process{'es' if n > 1 else ''}, every process's "
                f"transactions together (held, for how many orders, and the ceiling that makes, as under (a)): "
                f"{holds.figures(by_clients)}.",
                "",
            ]
    if checks:
        out += [f"Checked afterwards: {checks}.", ""]
    if REPLICAS_NOTE.exists():
        out += [REPLICAS_NOTE.read_text().strip(), ""]
    return out


def profile_section(summary: ProfileSummary, step: Step | None) -> list[str]:
    out = ["## Where the time goes: profile of the kitchen in (a) at 16 clients", ""]
    if step is not None:
        kitchen = step.cpu.get("kitchen", math.nan)
        per_order = kitchen / step.rate * 1000 if step.rate else math.nan
        out += [
            f"cProfile (tests/bench/profiled.py) on the kitchen's main thread for {step.window_s:.0f} s "
            f"while 16 clients ordered: {_f(step.rate)} orders/s under the profiler, the kitchen process at "
            f"{kitchen:.2f} cores, so about **{per_order:.1f} ms of kitchen CPU per order** (profiler "
            f"overhead included). CPU of everything: {_cpu(step)}.",
            "",
        ]
    out += [
        f"Profiled time: {summary.total_s:.1f} s of own time (tottime) in Python functions and the C "
        "functions they call.",
        "",
        "By area (own time):",
        "",
        "| area | s | share |",
        "|---|---:|---:|",
    ]
    out += [f"| {c.name} | {c.seconds:.2f} | {c.share:.1%} |" for c in summary.by_area]
    out += ["", "Heaviest functions (own time):", "", "| function | calls | s | share |", "|---|---:|---:|---:|"]
    out += [f"| `{c.name}` | {c.calls} | {c.seconds:.2f} | {c.share:.1%} |" for c in summary.by_function]
    out += [
        "",
        "Brigade's functions by cumulative time (includes what they call and await-free work only: "
        "cProfile sees a coroutine's time between its resumptions):",
        "",
        "| function | calls | s | share |",
        "|---|---:|---:|---:|",
    ]
    out += [f"| `{c.name}` | {c.calls} | {c.seconds:.2f} | {c.share:.1%} |" for c in summary.brigade_cumulative]
    return out


def render(res: Results, opts: Options, command: str, analysis: str = "") -> str:
    m = res.machine
    lines = [
        "# Benchmarks: `POST /api/kitchen/orders`",
        "",
        f"Generated by `make bench` (`{command}`) on {m.date if m else '?'}. Re-run it to refresh this page.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in (m.rows() if m else [])]
    lines += [f"| command | `{command}` |", "", "## Method", ""]
    pg_mode = (
        "with `fsync=off, synchronous_commit=off, full_page_writes=off` (devservers' FAST_SETTINGS) "
        "for the main run; the last two tables repeat the plain route and (a) with PostgreSQL's "
        "default durability"
        if opts.fast
        else "with its default durability settings"
    )
    lines += [
        METHOD.format(
            warmup=opts.warmup_s,
            measure=opts.measure_s,
            max_requests=opts.max_requests,
            grace=opts.timing.grace_s,
            pg_mode=pg_mode,
            floor_measure=opts.floor_measure_s,
            floor_warmup=opts.floor_warmup_s,
            quiet_wait=opts.quiet_wait_s,
            retries=opts.retries,
        )
    ]
    lines += ["## Aims", "", *aims(res), ""]
    if analysis:
        lines += [analysis, ""]
    lines += ["## Floors", "", *table(res.floors, unit="ops/s", label=True), ""]
    for key, steps in res.sections.items():
        if key == "replicas":
            continue  # after the profile, below
        lines += [f"## {TITLES.get(key, key)}", "", *table(steps), ""]
        notes = [s.note for s in steps if s.note]
        if notes:
            lines += [f"After the steps: {notes[-1]}.", ""]
        if key in res.checks:
            lines += [f"Checked afterwards: {res.checks[key]}.", ""]
        if any(h.holds for h in res.held.get(key, {}).values()):
            lines += [holds.line(res.held[key]), ""]
        if res.hops.get(key):
            floor = {s.concurrency: s.p99 for s in res.floors if s.label.startswith("JetStream")}
            lines += [HOPS_INTRO, "", *hops.table(res.hops[key], floor), ""]
    if res.profile is not None:
        lines += [*profile_section(res.profile, res.profile_step), ""]
    if res.sections.get("replicas"):
        held = {int(k.split("-")[1]): v for k, v in res.held.items() if k.startswith("replicas-")}
        lines += replicas_section(res.sections["replicas"], res.checks.get("replicas", ""), held)
    return "\n".join(lines).rstrip() + "\n"
