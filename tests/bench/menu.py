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
import json
import os
import random
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from brigade_common.devservers import free_port
from tests.bench.cpu import CpuMeter, children, wait_quiet
from tests.bench.doc import measure_and_write
from tests.bench.httpclient import HttpConnection
from tests.bench.loop import Timing, closed_loop
from tests.bench.machine import Machine
from tests.bench.options import ROOT
from tests.bench.servers import Infra
from tests.bench.stats import Step, percentile
from tests.e2e.harness import ServiceProcess, Stack

SECTION = "menu"
DISHES = "/api/kitchen/dishes"
TODAY = f"{DISHES}/today"
ANSWERS = ("local", "bucket", "source", "degraded")
_READS = re.compile(r'^kitchen_menu_cache_reads_total\{answered_by="(\w+)"\}\s+([0-9.e+]+)\s*$', re.M)
# In the mixed load: one operation in this many is a staff PATCH (read, then write with If-Match).
PATCH_EVERY = 50


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


# ------------------------------------------------------------------------------------ pure logic


def cache_reads(metrics: str) -> dict[str, int]:
    """`kitchen_menu_cache_reads_total` by `answered_by`, from a Prometheus text page (0 if absent)."""
    found = {k: 0 for k in ANSWERS}
    for answered_by, value in _READS.findall(metrics):
        found[answered_by] = int(float(value))
    return found


def reads_between(before: Sequence[Mapping[str, int]], after: Sequence[Mapping[str, int]]) -> dict[str, int]:
    """The reads of every process between two scrapes (one mapping per process, in the same order)."""
    return {k: sum(a.get(k, 0) - b.get(k, 0) for b, a in zip(before, after, strict=True)) for k in ANSWERS}


def hit_rate(reads: Mapping[str, int]) -> float:
    """Reads answered by a copy or the bucket over every read the cache took (degraded ones included:
    they went to PostgreSQL as a miss does)."""
    total = sum(reads.get(k, 0) for k in ANSWERS)
    return (reads.get("local", 0) + reads.get("bucket", 0)) / total if total else float("nan")


@dataclass
class Propagation:
    """Per change: from the PATCH's send and from its answer to the new version on every kitchen."""

    from_send_s: list[float] = field(default_factory=list)
    from_answer_s: list[float] = field(default_factory=list)
    write_s: list[float] = field(default_factory=list)
    missed: int = 0  # changes not seen everywhere within the poll's limit

    def add(self, sent: float, answered: float, seen: Sequence[float]) -> None:
        last = max(seen)
        self.write_s.append(answered - sent)
        self.from_send_s.append(last - sent)
        self.from_answer_s.append(last - answered)

    @staticmethod
    def ms(values: Sequence[float], q: float) -> float:
        return percentile(sorted(values), q) * 1000


@dataclass
class Results:
    machine: Machine | None = None
    steps: list[tuple[str, Step]] = field(default_factory=list)  # (cache on/off, step)
    mixed: Step | None = None
    reads: dict[str, int] = field(default_factory=dict)
    propagation: Propagation = field(default_factory=Propagation)
    load: tuple[float, float] = (0.0, 0.0)


# ------------------------------------------------------------------------------------- requests


def _get(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def _patch(port: int, path: str, token: str, version: int, body: Mapping[str, object]) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f'If-Match: "{version}"\r\nContent-Type: application/merge-patch+json\r\n'
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


class ReadLoad:
    """The `Operation` for `closed_loop`: worker i GETs `paths` in turn on its own connection."""

    def __init__(self, port: int, paths: Sequence[str], concurrency: int) -> None:
        self.requests = [_get(port, p) for p in paths]
        self.connections = [HttpConnection("127.0.0.1", port) for _ in range(concurrency)]
        self._n = 0

    async def __call__(self, i: int) -> tuple[bool, str]:
        self._n += 1
        status, _ = await self.connections[i].request(self.requests[self._n % len(self.requests)])
        return status == 200, str(status)

    def close(self) -> None:
        for c in self.connections:
            c.close()


class MixedLoad:
    """Workers spread over the kitchens: mostly today's menu and a dish, one in PATCH_EVERY a staff
    change of a dish's price (its version read first; a 412 from a concurrent change counts as done)."""

    def __init__(self, ports: Sequence[int], dish_ids: Sequence[str], token: str, concurrency: int) -> None:
        self.ports = [ports[i % len(ports)] for i in range(concurrency)]
        self.dish_ids = dish_ids
        self.token = token
        self.connections = [HttpConnection("127.0.0.1", p) for p in self.ports]
        self.rng = random.Random(7)

    async def __call__(self, i: int) -> tuple[bool, str]:
        conn, port = self.connections[i], self.ports[i]
        n = self.rng.randrange(PATCH_EVERY * 2)
        if n == 0:
            dish = self.rng.choice(self.dish_ids)
            status, body = await conn.request(_get(port, f"{DISHES}/{dish}"))
            if status != 200:
                return False, str(status)
            got = json.loads(body)
            change = {"price_cents": 500 + self.rng.randrange(1000)}
            status, _ = await conn.request(_patch(port, f"{DISHES}/{dish}", self.token, got["version"], change))
            return status in (200, 412), f"PATCH {status}"
        path = TODAY if n % 2 else f"{DISHES}/{self.rng.choice(self.dish_ids)}"
        status, _ = await conn.request(_get(port, path))
        return status == 200, str(status)

    def close(self) -> None:
        for c in self.connections:
            c.close()


async def _json(conn: HttpConnection, port: int, path: str) -> object:
    status, body = await conn.request(_get(port, path))
    assert status == 200, f"GET {path}: {status} {body[:300]!r}"
    return json.loads(body)


async def _version(conn: HttpConnection, port: int, dish: str) -> int:
    got = await _json(conn, port, f"{DISHES}/{dish}")
    assert isinstance(got, dict)
    return int(got["version"])


async def scrape(ports: Sequence[int]) -> list[dict[str, int]]:
    out = []
    for port in ports:
        conn = HttpConnection("127.0.0.1", port)
        try:
            status, body = await conn.request(_get(port, "/metrics"))
            assert status == 200, status
            out.append(cache_reads(body.decode()))
        finally:
            conn.close()
    return out


async def propagate(ports: Sequence[int], dish: str, token: str, changes: int, into: Propagation) -> None:
    """PATCH `dish` through the first kitchen `changes` times; time until every kitchen answers the
    new version. Both have the dish in their own copy beforehand (read just before the change)."""
    conns = [HttpConnection("127.0.0.1", p) for p in ports]
    try:
        for n in range(changes):
            versions = [await _version(c, p, dish) for c, p in zip(conns, ports, strict=True)]
            for c, p in zip(conns, ports, strict=True):  # a second read: answered from the copy
                await _json(c, p, f"{DISHES}/{dish}")
            assert len(set(versions)) == 1, f"kitchens disagree before change {n}: {versions}"
            sent = time.perf_counter()
            status, body = await conns[0].request(
                _patch(ports[0], f"{DISHES}/{dish}", token, versions[0], {"price_cents": 1000 + n})
            )
            answered = time.perf_counter()
            assert status == 200, f"PATCH: {status} {body[:300]!r}"
            new = int(json.loads(body)["version"])

            async def seen(conn: HttpConnection, port: int, new: int = new) -> float:
                limit = time.perf_counter() + 10
                while time.perf_counter() < limit:
                    if await _version(conn, port, dish) >= new:
                        return time.perf_counter()
                raise TimeoutError

            try:
                times = await asyncio.gather(*(seen(c, p) for c, p in zip(conns, ports, strict=True)))
            except TimeoutError:
                into.missed += 1
                continue
            into.add(sent, answered, times)
    finally:
        for c in conns:
            c.close()


# ----------------------------------------------------------------------------------------- run


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
                today = await _json(probe, first.port, TODAY)
                every = await _json(probe, first.port, DISHES)
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


# -------------------------------------------------------------------------------------- render


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
        f"Generated by `{command}` on {res.machine.date}. Re-run it to refresh this section.",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in res.machine.rows()],
        "",
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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    opts = parse(args)
    res = Results()
    return measure_and_write(
        "tests.bench.menu", SECTION, args, opts.out, lambda: run(opts, res), lambda command: render(res, command)
    )


if __name__ == "__main__":
    sys.exit(main())
