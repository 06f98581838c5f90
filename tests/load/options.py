"""`make load` options: flags, each defaulting to a LOAD_* environment variable, then to a built-in value."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.load.runner import ROOT


@dataclass(frozen=True)
class Options:
    users: int
    spawn_rate: float
    duration_s: float
    think_s: str
    host: str | None
    out: Path | None
    outage_s: float = 0.0
    outage_at_s: float = 20.0


def _env(name: str, default: str) -> str:
    return os.environ.get(f"LOAD_{name}", "") or default


def parse(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="python -m tests.load", description="Brigade under locust (make load).")
    p.add_argument(
        "--users", type=int, default=int(_env("USERS", "50")), help="simulated users at the peak (LOAD_USERS, 50)"
    )
    p.add_argument(
        "--spawn-rate",
        type=float,
        default=float(_env("SPAWN_RATE", "10")),
        help="users started per second (LOAD_SPAWN_RATE, 10)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=float(_env("DURATION_S", "60")),
        help="seconds of load, ramp-up included (LOAD_DURATION_S, 60)",
    )
    p.add_argument(
        "--think",
        default=_env("THINK_S", "1,3"),
        help='"min,max" seconds each user pauses between tasks (LOAD_THINK_S, "1,3")',
    )
    p.add_argument(
        "--host",
        default=os.environ.get("LOAD_HOST") or None,
        help="load a running stack at this URL, e.g. http://localhost:8080 for `make up` (LOAD_HOST; "
        "default: start PostgreSQL, nats-server and the services on free ports)",
    )
    p.add_argument(
        "--out",
        default=_env("OUT", str(ROOT / "docs/benchmarks.md")),
        help="record the figures in this file's `load` section; '-' = print only (LOAD_OUT, docs/benchmarks.md)",
    )
    p.add_argument(
        "--outage",
        type=float,
        default=float(_env("OUTAGE_S", "0")),
        help="kill PostgreSQL for this many seconds during the run and measure the recovery; 0 = none "
        "(LOAD_OUTAGE_S, 0; a stack the run starts only)",
    )
    p.add_argument(
        "--outage-at",
        type=float,
        default=float(_env("OUTAGE_AT_S", "20")),
        help="seconds into the run when the outage starts (LOAD_OUTAGE_AT_S, 20)",
    )
    a = p.parse_args(argv)
    if a.outage and a.host:
        p.error("--outage needs a stack the run starts (no --host)")
    if a.users < 1 or a.spawn_rate <= 0 or a.duration <= 0:
        p.error("--users, --spawn-rate and --duration must be positive")
    low, _, high = a.think.partition(",")
    try:
        float(low), float(high or low)
    except ValueError:
        p.error(f'--think takes "min,max" seconds, got {a.think!r}')
    return Options(
        users=a.users,
        spawn_rate=a.spawn_rate,
        duration_s=a.duration,
        think_s=a.think,
        host=a.host.rstrip("/") if a.host else None,
        out=None if a.out == "-" else Path(a.out),
        outage_s=a.outage,
        outage_at_s=a.outage_at,
    )
