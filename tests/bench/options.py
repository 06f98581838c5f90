"""Bench options: flags, each defaulting to a BENCH_* environment variable, then to a built-in value."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.bench.loop import Timing

ROOT = Path(__file__).resolve().parents[2]
ALL_SCENARIOS = ("pantry", "warehouse", "market")


@dataclass(frozen=True)
class Options:
    warmup_s: float
    measure_s: float
    floor_warmup_s: float
    floor_measure_s: float
    concurrency: list[int]
    scenarios: list[str]
    baseline: bool
    profile_s: float
    durable: bool
    fast: bool
    max_requests: int
    plain_pool: int
    out: Path
    quiet_wait_s: float = 20.0
    retries: int = 1
    # (a) again with the kitchen as this many processes on one port (KITCHEN_REPLICAS), a fresh stack each.
    kitchen_replicas: tuple[int, ...] = (1, 2)
    replicas_concurrency: tuple[int, ...] = (16, 64)

    @property
    def timing(self) -> Timing:
        return Timing(self.warmup_s, self.measure_s, self.max_requests)

    @property
    def floor_timing(self) -> Timing:
        return Timing(self.floor_warmup_s, self.floor_measure_s, self.max_requests)


def _env(name: str, default: str) -> str:
    return os.environ.get(f"BENCH_{name}", default)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _bool(text: str) -> bool:
    return text.strip().lower() not in ("0", "false", "no", "off", "")


def parse(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    p.add_argument(
        "--warmup",
        type=float,
        default=float(_env("WARMUP_S", "3")),
        help="seconds of warm-up per step, not measured (BENCH_WARMUP_S, 3)",
    )
    p.add_argument(
        "--measure",
        type=float,
        default=float(_env("MEASURE_S", "8")),
        help="measured seconds per step (BENCH_MEASURE_S, 8)",
    )
    p.add_argument(
        "--floor-warmup",
        type=float,
        default=float(_env("FLOOR_WARMUP_S", "1")),
        help="warm-up per floor step (BENCH_FLOOR_WARMUP_S, 1)",
    )
    p.add_argument(
        "--floor-measure",
        type=float,
        default=float(_env("FLOOR_MEASURE_S", "4")),
        help="measured seconds per floor step (BENCH_FLOOR_MEASURE_S, 4)",
    )
    p.add_argument(
        "--concurrency",
        type=_ints,
        default=_ints(_env("CONCURRENCY", "1,16,64")),
        help="concurrent clients per step, comma-separated (BENCH_CONCURRENCY, 1,16,64)",
    )
    p.add_argument(
        "--scenarios",
        default=_env("SCENARIOS", ",".join(ALL_SCENARIOS)),
        help="which of pantry,warehouse,market (BENCH_SCENARIOS, all)",
    )
    p.add_argument(
        "--baseline",
        type=_bool,
        default=_bool(_env("BASELINE", "1")),
        help="also run (a) with the kitchen's admission control off (BENCH_BASELINE, 1)",
    )
    p.add_argument(
        "--profile",
        type=float,
        default=float(_env("PROFILE_S", "8")),
        help="seconds of cProfile of the kitchen in (a) at 16 clients; 0 = none (BENCH_PROFILE_S, 8)",
    )
    p.add_argument(
        "--durable",
        type=_bool,
        default=_bool(_env("DURABLE", "1")),
        help="also run the plain route and (a) with PostgreSQL's default durability (BENCH_DURABLE, 1)",
    )
    p.add_argument(
        "--fast",
        type=_bool,
        default=_bool(_env("FAST", "1")),
        help="main run with fsync/synchronous_commit off (BENCH_FAST, 1)",
    )
    p.add_argument(
        "--max-requests",
        type=int,
        default=int(_env("MAX_REQUESTS", "200000")),
        help="bound on the requests of one step (BENCH_MAX_REQUESTS, 200000)",
    )
    p.add_argument(
        "--plain-pool",
        type=int,
        default=int(_env("PLAIN_POOL", "10")),
        help="connection pool of the plain route (BENCH_PLAIN_POOL, 10 like the kitchen's)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path(_env("OUT", str(ROOT / "docs" / "benchmarks.md"))),
        help="where to write the report (BENCH_OUT, docs/benchmarks.md)",
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=float(_env("QUIET_WAIT_S", "20")),
        help="wait up to this long for other work on the machine to stop before a step (BENCH_QUIET_WAIT_S, 20)",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=int(_env("RETRIES", "1")),
        help="repeat a step disturbed by other processes up to this many times (BENCH_RETRIES, 1)",
    )
    p.add_argument(
        "--kitchen-replicas",
        type=_ints,
        default=_ints(_env("KITCHEN_REPLICAS", "1,2")),
        help="(a) again with the kitchen as each of these numbers of processes on one port, e.g. 1,2,1,2; "
        "empty = skip (BENCH_KITCHEN_REPLICAS, 1,2)",
    )
    p.add_argument(
        "--replicas-concurrency",
        type=_ints,
        default=_ints(_env("REPLICAS_CONCURRENCY", "16,64")),
        help="concurrent clients per step of the replicas comparison (BENCH_REPLICAS_CONCURRENCY, 16,64)",
    )
    a = p.parse_args(argv)
    if any(n < 1 for n in a.kitchen_replicas):
        p.error("--kitchen-replicas: each entry is a number of processes, 1 or more")
    scenarios = [s for s in a.scenarios.split(",") if s]
    unknown = set(scenarios) - set(ALL_SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return Options(
        a.warmup,
        a.measure,
        a.floor_warmup,
        a.floor_measure,
        a.concurrency,
        scenarios,
        a.baseline,
        a.profile,
        a.durable,
        a.fast,
        a.max_requests,
        a.plain_pool,
        a.out,
        a.quiet_wait,
        a.retries,
        tuple(a.kitchen_replicas),
        tuple(a.replicas_concurrency),
    )
