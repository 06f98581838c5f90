"""The `menu` section of docs/benchmarks.md from a run's results (tests/bench/menu.py)."""

from __future__ import annotations

from collections.abc import Sequence

from tests.bench.menu_results import PATCH_EVERY, Results, hit_rate
from tests.bench.stats import Step


def _cpu(s: Step) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in s.cpu.items() if v >= 0.01)


def pooled(steps: Sequence[tuple[str, Step]]) -> dict[tuple[str, str, int], Step]:
    """(cache, route, clients) → one step of all its rounds: their latencies and windows summed."""
    out: dict[tuple[str, str, int], Step] = {}
    for cache, s in steps:
        key = (cache, s.label, s.concurrency)
        held = out.get(key)
        out[key] = (
            Step(s.label, s.concurrency, s.window_s, list(s.latencies_s), errors=s.errors)
            if held is None
            else Step(
                s.label,
                s.concurrency,
                held.window_s + s.window_s,
                held.latencies_s + s.latencies_s,
                errors=held.errors + s.errors,
            )
        )
    return out


def speedups(steps: Sequence[tuple[str, Step]]) -> dict[tuple[str, int], tuple[float, float]]:
    """(route, clients) → (p50 off / on, requests/s on / off), over every round measured both ways."""
    by = pooled(steps)
    out = {}
    for (cache, label, c), on in by.items():
        off = by.get(("off", label, c))
        if cache == "on" and off is not None and on.p50 > 0 and off.rate > 0:
            out[(label, c)] = (off.p50 / on.p50, on.rate / off.rate)
    return out


def reading(res: Results) -> list[str]:
    """The note under the figures: how much faster the cached read is, the hit rate, the bound."""
    faster = speedups(res.steps)
    if not faster:
        return []
    p50s, rates = [f[0] for f in faster.values()], [f[1] for f in faster.values()]
    verdict = "faster at every step" if min(p50s) > 1 and min(rates) > 1 else "not faster at every step"
    out = [
        f"**Reading.** The cached read is {verdict} of this run: its p50 is {min(p50s):.1f}–{max(p50s):.1f}× "
        f"lower and it answers {min(rates):.1f}–{max(rates):.1f}× the requests per second (the pooled table). At "
        "1 client the cache trades the queries to PostgreSQL (for today's menu: the menu's ids, then its "
        "dishes) for look-ups in the process's own copy; at 16 clients the kitchen, one Python process, can "
        "use one core at most (the CPU column), and what the cache saves is that process's work of asking "
        "PostgreSQL and decoding its rows, plus PostgreSQL's own."
    ]
    busy = sum(1 for _, s in res.steps if s.cpu.get("other", 0.0) > 0.5)
    if busy:
        out.append(
            f"{busy} of the {len(res.steps)} steps ran while other work on the machine took more than half a "
            "core (*other* in their CPU column): each compares with its pair, less with the rest."
        )
    if res.mixed is not None and res.reads:
        patches = res.mixed.statuses.get("PATCH 200", 0)
        out.append(
            f"Under the mixed load {hit_rate(res.reads):.1%} of the cache's reads were answered without "
            f"PostgreSQL; the {res.reads.get('source', 0):,} that went there were the first reads of a key "
            f"after one of the {patches:,} PATCHes invalidated it (or before it was cached)."
        )
    p = res.propagation
    if p.from_send_s:
        out.append(
            f"A change was on every kitchen within {p.ms(p.from_send_s, 99):.1f} ms of its PATCH's send at p99 "
            f"(max {max(p.from_send_s) * 1000:.1f} ms, {p.ms(p.from_answer_s, 99):.1f} ms after its answer): "
            "outbox relay, JetStream, the `kitchen-menu-cache` consumer's delete, every kitchen's bucket "
            "watcher, and the next read from PostgreSQL. That is the bound the cache promises (its TTL, five "
            "minutes, is only the backstop)."
        )
    return [" ".join(out), ""]


def render(res: Results, command: str) -> str:
    assert res.machine is not None
    p = res.propagation
    lines = [
        "## Menu: `GET /api/kitchen/dishes/{id}` and `/dishes/today` through the KV cache",
        "",
        *res.machine.generated(command),
        "- Three kitchen processes on one PostgreSQL (devservers' FAST_SETTINGS) and one nats-server, JSON",
        "  logs at INFO, seed 000's menu: two with the cache, one started with `KITCHEN_MENU_CACHE=false`",
        "  (every read from PostgreSQL). Closed loop: N clients each GET on a keep-alive connection of its",
        "  own and ask again as soon as the answer comes (`/dishes/{id}`: the menu's dishes in turn). Each",
        "  *on* step on the first kitchen is followed at once by the same *off* step on the third, in",
        "  rounds, so that other work on the machine weighs on both sides alike; the first table pools",
        "  the rounds. Requests/s counts the 200s inside the measured window; latencies are theirs",
        "  (nearest-rank). The client and every process share the same cores, with other work on the",
        f"  machine (load average {res.load[0]:.1f} at the start, {res.load[1]:.1f} at the end; the CPU",
        "  column's *other* is that work).",
        "",
        "| route | clients | on: requests/s | off: requests/s | on: p50 ms | off: p50 ms | on: p99 ms "
        "| off: p99 ms | p50 off ÷ on | requests/s on ÷ off |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    both = pooled(res.steps)
    for (label, c), (p50, rate) in speedups(res.steps).items():
        on, off = both[("on", label, c)], both[("off", label, c)]
        lines.append(
            f"| `{label}` | {c} | {on.rate:,.0f} | {off.rate:,.0f} | {on.p50:.2f} | {off.p50:.2f} | {on.p99:.2f} "
            f"| {off.p99:.2f} | {p50:.1f} | {rate:.1f} |"
        )
    lines += [
        "",
        "Each step:",
        "",
        "| cache | route | clients | requests/s | p50 ms | p99 ms | errors | CPU (cores) |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for cache, s in res.steps:
        lines.append(
            f"| {cache} | `{s.label}` | {s.concurrency} | {s.rate:,.1f} | {s.p50:.2f} | {s.p99:.2f} "
            f"| {s.errors} | {_cpu(s)} |"
        )
    lines += [""]
    if res.mixed is not None:
        r = res.reads
        lines += [
            f"**Hit rate under a mixed load** (16 clients for {res.mixed.window_s:.0f} s spread over both kitchens: "
            f"half today's menu, half a random dish, one operation in {PATCH_EVERY} a staff PATCH of a dish's "
            f"price, which invalidates the dish and the menu's ids on every kitchen): {res.mixed.rate:,.0f} "
            f"operations/s, **{hit_rate(r):.1%}** of the cache's reads answered without PostgreSQL. A read is "
            "one key: a dish by id is one, today's menu is the menu's ids plus up to seven dishes. From "
            f"`kitchen_menu_cache_reads_total` of both kitchens' /metrics before and after: local "
            f"{r.get('local', 0):,}, bucket {r.get('bucket', 0):,}, source {r.get('source', 0):,}, degraded "
            f"{r.get('degraded', 0):,}.",
            "",
        ]
    if p.from_send_s:
        lines += [
            f"**Propagation** ({len(p.from_send_s)} PATCHes through one kitchen, both kitchens holding the dish",
            "in their own copy, then polled until each answers the new version; the commit lies between",
            "the PATCH's send and its answer):",
            "",
            "| from | to | p50 ms | p99 ms | max ms |",
            "|---|---|---:|---:|---:|",
            f"| PATCH sent | its 200 | {p.ms(p.write_s, 50):.1f} | {p.ms(p.write_s, 99):.1f} "
            f"| {max(p.write_s) * 1000:.1f} |",
            f"| PATCH sent (before the commit) | new version on every kitchen | {p.ms(p.from_send_s, 50):.1f} "
            f"| {p.ms(p.from_send_s, 99):.1f} | {max(p.from_send_s) * 1000:.1f} |",
            f"| PATCH answered (after the commit) | new version on every kitchen | {p.ms(p.from_answer_s, 50):.1f} "
            f"| {p.ms(p.from_answer_s, 99):.1f} | {max(p.from_answer_s) * 1000:.1f} |",
            "",
        ]
        if p.missed:
            lines += [f"{p.missed} change(s) not seen on every kitchen within 10 s.", ""]
    lines += reading(res)
    return "\n".join(lines)
