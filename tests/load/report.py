"""The figures of a `make load` run: a table on the terminal and the `load` section of docs/benchmarks.md."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tests.bench.machine import Machine
from tests.bench.menu import hit_rate
from tests.load.options import Options
from tests.load.outage import OutageFigures, answers
from tests.load.runner import Entry, Summary

SECTION = "load"
OUTAGE_SECTION = "load-outage"

METHOD = """\
- {users} simulated users (locust {classes}), started at {spawn:g}/s, for {duration:g} s in all (ramp-up
  included); each pauses {think} s between tasks. Every user signs in with a token of its own subject
  (an Ed25519 JWT minted by the locustfile).
- A customer (weight 9) either browses (today's menu, one dish) or orders: today's menu, `POST
  /api/kitchen/orders` with an `Idempotency-Key`, then — on `202` — polls the order's `Location` every
  0.25 s until it leaves `pending`, reads their own orders (the new one must be listed), cancels a
  quarter of the reserved orders and pays for the rest (`POST /api/payments`, `tok_visa`). Staff
  (weight 1) read the pantry, its ledger, the warehouse stock and purchases.
- Rows are named by route template. `ORDER <status>` rows count how each order ended, timed from the
  POST until it left `pending` (the saga's latency as a customer sees it). A failure is a transport
  error, an unexpected status or body, or an order still pending after 60 s; 409/422 on a write are
  business refusals, counted as `REFUSED` rows, not failures.
- {target}
- **locust runs on the same {nproc} cores as what it loads**; its CPU is in the process table.
"""

LOCAL_TARGET = """\
The stack is started by the run: PostgreSQL (default durability) and nats-server on free ports, a
  fresh database migrated and seeded with seed 000 (a small pantry: most orders go through the
  warehouse, which buys from the market), the real market, warehouse and kitchen processes (JSON logs
  at INFO, otherwise defaults) and the `web` gateway in front of them, routing `/api/<service>` from
  infra/helm/brigade/routes.yaml as the ingress does. locust talks to the gateway only."""


@dataclass
class Results:
    opts: Options
    command: str
    machine: Machine
    summary: Summary
    host: str
    started_stack: bool
    orders: Mapping[str, int] = field(default_factory=dict)
    memory_kib: Mapping[str, int] = field(default_factory=dict)
    cpu: Mapping[str, float] = field(default_factory=dict)
    check: str = ""
    outage: OutageFigures | None = None
    # The kitchen's menu cache reads during the run, by what answered (kitchen_menu_cache_reads_total).
    menu_reads: Mapping[str, int] = field(default_factory=dict)


def _ms(x: float) -> str:
    return f"{x:,.0f}"


def _route(e: Entry) -> str:
    return f"{e.type} {e.name}" if e.is_request else f"{e.type} `{e.name}`"


def routes_table(summary: Summary) -> list[str]:
    out = [
        "| route | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | failures |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in summary.requests:
        out.append(
            f"| {_route(e)} | {e.requests} | {e.rps:.1f} | {_ms(e.p50)} | {_ms(e.p95)} | {_ms(e.p99)} "
            f"| {_ms(e.max)} | {e.failures} |"
        )
    total = summary.total
    out.append(
        f"| **all requests** | {total.requests} | {total.rps:.1f} | {_ms(total.p50)} | {_ms(total.p95)} "
        f"| {_ms(total.p99)} | {_ms(total.max)} | {total.failures} |"
    )
    return out


def outcomes_table(summary: Summary) -> list[str]:
    rows = [e for e in summary.entries if not e.is_request]
    if not rows:
        return ["No order finished."]
    out = [
        "| outcome | count | p50 ms | p95 ms | p99 ms | max ms | failures |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    out += [
        f"| {_route(e)} | {e.requests} | {_ms(e.p50)} | {_ms(e.p95)} | {_ms(e.p99)} | {_ms(e.max)} | {e.failures} |"
        for e in rows
    ]
    return out


def process_table(res: Results) -> list[str]:
    out = ["| process | RSS at the end, MiB | CPU during the run, cores |", "|---|---:|---:|"]
    for name in sorted(set(res.memory_kib) | set(res.cpu) - {"other"}):
        mem, cpu = res.memory_kib.get(name), res.cpu.get(name)
        out.append(
            f"| {name} | {'–' if mem is None else f'{mem / 1024:.0f}'} | {'–' if cpu is None else f'{cpu:.2f}'} |"
        )
    if "other" in res.cpu:
        out.append(f"| everything else on the machine | | {res.cpu['other']:.2f} |")
    return out


def headline(res: Results) -> str:
    s = res.summary
    placed = s.request("POST", "/api/kitchen/orders")
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(s.outcomes.items())) or "none"
    return (
        f"{s.total.requests} requests in {s.elapsed_s:.0f} s ({s.total.rps:.1f}/s), failures: {s.failures}; "
        f"{placed.requests if placed else 0} orders placed, ended: {outcomes}"
    )


def menu_cache_line(res: Results) -> str:
    r = res.menu_reads
    return (
        f"the kitchen's menu cache answered {hit_rate(r):.1%} of its reads without PostgreSQL (local "
        f"{r.get('local', 0)}, bucket {r.get('bucket', 0)}, source {r.get('source', 0)}, "
        f"degraded {r.get('degraded', 0)})"
    )


def terminal(res: Results) -> str:
    lines = ["", "== make load: " + headline(res), "", *routes_table(res.summary), "", *outcomes_table(res.summary)]
    if res.orders:
        lines += ["", "orders in the kitchen's database: " + _counts(res.orders)]
    if res.menu_reads:
        lines += ["", menu_cache_line(res)]
    if res.memory_kib or res.cpu:
        lines += ["", *process_table(res)]
    if res.check:
        lines += ["", "checked afterwards: " + res.check]
    if res.summary.errors:
        lines += ["", "failures:"]
        lines += [f"  {e['occurrences']}× {e['type']} {e['name']}: {e['error']}" for e in res.summary.errors]
    return "\n".join(lines)


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f" (total {sum(counts.values())})"


def section_body(res: Results) -> str:
    o, m = res.opts, res.machine
    classes = "`Customer` and `Staff`"
    lines = [
        "## Load: customers through the gateway (`make load`)",
        "",
        f"Generated by `make load` (`{res.command}`) on {m.date}, against "
        + ("the gateway of a stack the run started." if res.started_stack else f"{res.host}, a stack already running."),
        "Re-run it to refresh this section; `make bench` keeps it.",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in m.rows()],
        f"| command | `{res.command}` |",
        "",
        METHOD.format(
            users=o.users,
            classes=classes,
            spawn=o.spawn_rate,
            duration=o.duration_s,
            think=o.think_s.replace(",", "–"),
            target=LOCAL_TARGET if res.started_stack else f"The target is {res.host}, a stack the run did not start.",
            nproc=m.nproc,
        ),
        f"**{headline(res)}.**",
        "",
        "### Requests",
        "",
        *routes_table(res.summary),
        "",
        "### Orders",
        "",
        *outcomes_table(res.summary),
        "",
    ]
    if res.orders:
        lines += [f"In the kitchen's database after the run (pending ones settled first): {_counts(res.orders)}."]
        placed = res.summary.request("POST", "/api/kitchen/orders")
        extra = sum(res.orders.values()) - (placed.requests if placed else 0)
        if extra > 0:
            lines.append(
                f"{extra} more than locust counted: orders the kitchen took whose answer the end of the run cut off."
            )
        lines.append("")
    if res.check:
        lines += [f"Checked afterwards: {res.check}.", ""]
    if res.menu_reads:
        lines += [f"During the run {menu_cache_line(res)}.", ""]
    if res.memory_kib or res.cpu:
        lines += [
            "### Processes",
            "",
            "RSS at the end of the run (PostgreSQL: proportional set size summed over the postmaster and its "
            "backends, so shared buffers count once; locust: its peak). CPU: cores used during the run.",
            "",
            *process_table(res),
            "",
        ]
    if res.summary.errors:
        lines += ["### Failures", "", "| request | error | count |", "|---|---|---:|"]
        lines += [
            f"| {e['type']} {e['name']} | {str(e['error']).replace('|', '/')[:160]} | {e['occurrences']} |"
            for e in res.summary.errors
        ]
        lines.append("")
    return "\n".join(lines)


def lost_orders(res: Results) -> int:
    """Orders the API accepted (201/202, locust's and the outage probe's) that the kitchen does not have."""
    placed = res.summary.request("POST", "/api/kitchen/orders")
    accepted = (placed.requests - placed.failures if placed else 0) + (res.outage.probe_orders if res.outage else 0)
    refused = sum(e.requests for name, e in res.summary.rows("REFUSED").items() if name.startswith("POST"))
    return max(accepted - refused - sum(res.orders.values()), 0)


def outage_body(res: Results) -> str:
    """The `load-outage` section: a database outage under the locust load."""
    assert res.outage is not None
    o, m, out = res.opts, res.machine, res.outage
    by_answer = answers(res.summary.errors)
    lines = [
        "## A database outage under load (`make load` with `LOAD_OUTAGE_S`)",
        "",
        f"Generated by `{res.command}` on {m.date} ({m.nproc} cores, {m.cpu}; PostgreSQL {m.postgres}, "
        f"nats-server {m.nats}), on a stack the run started, with the load of the section above: "
        f"{o.users} users for {o.duration_s:g} s. {out.at_s:g} s in, PostgreSQL was killed (SIGKILL) and "
        f"started again {out.down_s:g} s later, on the same data.",
        "",
        "| | |",
        "|---|---|",
        f"| time to recover: PostgreSQL accepting connections → the first order accepted | {out.recovered_s:.2f} s |",
        f"| orders lost (accepted by the API, missing from the kitchen) | {lost_orders(res)} |",
        f"| orders in the kitchen afterwards (pending ones settled) | {_counts(res.orders) if res.orders else '–'} |",
        f"| requests in all / failed | {res.summary.total.requests} / {res.summary.failures} |",
        "",
        "What the API answered that was not a success, during the outage and after it:",
        "",
        "| answer | count |",
        "|---|---:|",
        *[f"| {answer} | {count} |" for answer, count in sorted(by_answer.items())],
        "",
    ]
    if res.check:
        lines += [f"Checked afterwards: {res.check}.", ""]
    return "\n".join(lines)
