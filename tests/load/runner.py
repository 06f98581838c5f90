"""Runs locust on the locustfile in a child process and reads back its summary.

Locust monkey-patches the standard library with gevent as soon as it is imported, so it never runs
inside the caller's (asyncio) process: the benchmark and the test both go through `run_locust`.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "tests/load/locustfile.py"


@dataclass(frozen=True)
class Entry:
    """One row of locust's stats: a route (by template), or an ORDER/REFUSED outcome row."""

    type: str
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Entry:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    @property
    def is_request(self) -> bool:
        return self.type not in ("ORDER", "REFUSED")


@dataclass(frozen=True)
class Summary:
    entries: list[Entry]
    total: Entry
    errors: list[dict[str, Any]]
    journeys: int
    exit_code: int
    elapsed_s: float
    cpu_s: float = 0.0
    peak_rss_kib: int = 0
    log: str = ""
    requests: list[Entry] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "requests", [e for e in self.entries if e.is_request])

    def rows(self, kind: str) -> dict[str, Entry]:
        return {e.name: e for e in self.entries if e.type == kind}

    @property
    def outcomes(self) -> dict[str, int]:
        """How the orders ended (final status → count), from the ORDER rows."""
        return {name: e.requests for name, e in self.rows("ORDER").items()}

    @property
    def failures(self) -> int:
        """Failed requests and outcomes, plus tasks that raised."""
        raised = sum(int(e["occurrences"]) for e in self.errors if e["type"] == "EXCEPTION")
        return sum(e.failures for e in self.entries) + raised

    def request(self, method: str, name: str) -> Entry | None:
        return next((e for e in self.requests if (e.type, e.name) == (method, name)), None)


@dataclass(frozen=True)
class LocustRun:
    host: str
    users: int
    spawn_rate: float
    duration_s: float
    env: Mapping[str, str] = field(default_factory=dict)
    user_classes: tuple[str, ...] = ()

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--only-summary",
            "--host",
            self.host,
            "--users",
            str(self.users),
            "--spawn-rate",
            f"{self.spawn_rate:g}",
            "--run-time",
            f"{max(int(self.duration_s), 1)}s",
            *self.user_classes,
        ]


def run_locust(run: LocustRun, workdir: Path, output: IO[Any] | None = None) -> Summary:
    """Run locust to the end (its run time, or LOAD_JOURNEYS in `run.env`) and return its figures.

    `output`: where locust's own log and summary table go (default: a file in `workdir`, returned
    as `Summary.log`). Besides the figures, the CPU seconds and peak RSS of the locust process.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    summary_file = workdir / "summary.json"
    summary_file.unlink(missing_ok=True)
    log_path = workdir / "locust.log"
    env = {**os.environ, **run.env, "LOAD_SUMMARY_FILE": str(summary_file), "PYTHONUNBUFFERED": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        sink = output if output is not None else log
        proc = subprocess.Popen(
            run.command(), env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            # Locust stops itself; the margin covers start-up and a slow shutdown.
            exit_code = proc.wait(timeout=run.duration_s + 60)
        except BaseException:
            proc.terminate()
            proc.wait(15)
            raise
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = log_path.read_text(errors="replace")
    if not summary_file.exists():
        raise RuntimeError(f"locust wrote no summary (exit code {exit_code}):\n{text[-3000:]}")
    data = json.loads(summary_file.read_text())
    return Summary(
        entries=[Entry.of(e) for e in data["entries"]],
        total=Entry.of(data["total"]),
        errors=data["errors"],
        journeys=data["journeys"],
        exit_code=exit_code,
        elapsed_s=elapsed,
        # Only locust was waited for in between: these are its own CPU time and (at least) its peak RSS.
        cpu_s=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        peak_rss_kib=after.ru_maxrss,
        log=text,
    )
