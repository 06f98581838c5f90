"""The footprint benchmark's figures and its section of docs/benchmarks.md (`tests.bench.footprint`
measures them): per process RSS, PSS and USS at idle, at the peak of the load and after it, the
aims, and what the figures say."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tests.bench.doc import section
from tests.bench.machine import Machine

if TYPE_CHECKING:
    from tests.bench.footprint import Options

SECTION = "footprint"
# The section goes just before the load's, where a reader of the page looks for memory.
BEFORE = "<!-- load:begin -->"
AIM_SERVICE_MIB = 60
AIM_STACK_MIB = 800
INFRA = ("postgres", "nats-server", "mail catcher")


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
