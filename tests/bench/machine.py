"""What the numbers were measured on."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(os.cpu_count())


@dataclass(frozen=True)
class Machine:
    nproc: str
    memory: str
    cpu: str
    kernel: str
    python: str
    postgres: str
    nats: str
    date: str

    @classmethod
    def probe(cls, postgres: str, nats: str) -> Machine:
        return cls(
            nproc=_nproc(),
            memory=_memory(),
            cpu=_cpu_model(),
            kernel=f"{platform.system()} {platform.release()}",
            python=f"{platform.python_implementation()} {platform.python_version()}",
            postgres=postgres,
            nats=nats,
            date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("nproc", self.nproc),
            ("memory", self.memory),
            ("CPU", self.cpu),
            ("kernel", self.kernel),
            ("Python", self.python),
            ("PostgreSQL", self.postgres),
            ("nats-server", self.nats),
            ("date", self.date),
        ]
