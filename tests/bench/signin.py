"""`python -m tests.bench.signin`: sign-in throughput and latency, and what argon2id costs a core.

Writes the `signin` section of docs/benchmarks.md (the rest of the page stays as it is):

- `POST /api/auth/signin` in a closed loop at 1 and 16 clients (`--concurrency`) against the real
  auth process on its own PostgreSQL and nats-server, each client signing in as users in turn;
- argon2id hashes per second on one core, in this process, with the service's parameters and a few
  others, so the sign-in rate can be read against the hash it is bound by.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import argon2
import httpx

from brigade_auth.config import OWASP_MEMORY_KIB, OWASP_TIME_COST, Settings
from tests.bench.cpu import CpuMeter, children
from tests.bench.doc import with_section
from tests.bench.httpclient import HttpConnection
from tests.bench.loop import Timing, cancel_on_signals, closed_loop
from tests.bench.machine import Machine
from tests.bench.options import ROOT
from tests.bench.servers import Infra
from tests.bench.stats import Step
from tests.e2e.harness import Stack

SECTION = "signin"
USERS = 32
QUIET_WAIT_S = 20.0
PASSWORD = "a benchmark's long password"
# (memory KiB, iterations): the service's default first, then OWASP's equivalent alternatives.
PARAMETERS = ((OWASP_MEMORY_KIB, OWASP_TIME_COST), (OWASP_MEMORY_KIB, 3), (46 * 1024, 1), (64 * 1024, 3))


@dataclass(frozen=True)
class HashCost:
    memory_kib: int
    time_cost: int
    per_s: float
    ms: float


def hash_rate(memory_kib: int, time_cost: int, seconds: float) -> HashCost:
    """Hashes per second of one thread (parallelism 1, as the service hashes), by CPU time."""
    hasher = argon2.PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=1, type=argon2.Type.ID)
    hasher.hash(PASSWORD)  # first allocation out of the way
    n, cpu0, wall_end = 0, time.process_time(), time.perf_counter() + seconds
    while time.perf_counter() < wall_end:
        hasher.hash(PASSWORD)
        n += 1
    cpu = time.process_time() - cpu0
    return HashCost(memory_kib, time_cost, n / cpu, cpu / n * 1000)


class SigninLoad:
    """The closed loop's operation: client i signs in as the users in turn on its own connection."""

    def __init__(self, host: str, port: int, emails: list[str], concurrency: int) -> None:
        self.requests = [self._request(host, port, e) for e in emails]
        self.connections = [HttpConnection(host, port) for _ in range(concurrency)]
        self.n = 0

    @staticmethod
    def _request(host: str, port: int, email: str) -> bytes:
        body = json.dumps({"email": email, "password": PASSWORD}).encode()
        head = (
            f"POST /api/auth/signin HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def __call__(self, i: int) -> tuple[bool, str]:
        self.n += 1
        status, _ = await self.connections[i].request(self.requests[self.n % len(self.requests)])
        return status == 200, str(status)

    def close(self) -> None:
        for c in self.connections:
            c.close()


async def measure(timing: Timing, concurrency: list[int]) -> tuple[Machine, list[Step]]:
    infra = Infra(fast=True)
    try:
        infra.start_postgres()
        machine = Machine.probe(*await infra.versions())
        nats = infra.start_nats()
        stack = Stack(await infra.fresh_database("signin"), nats.url, infra.root, {"AUTH_LOG_FORMAT": "json"})
        await stack.prepare()
        await stack.start("auth")
        url = stack.url("auth")
        emails = [f"bench{i}@example.com" for i in range(USERS)]
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            for email in emails:
                body = {"email": email, "password": PASSWORD, "display_name": "Bench"}
                assert (await client.post("/api/auth/signup", json=body)).status_code == 201
        proc = stack.services["auth"].proc
        assert proc is not None and infra.pg is not None and infra.pg.proc is not None
        pg_pid, auth_pid = infra.pg.proc.pid, proc.pid
        steps = []
        try:
            for c in concurrency:
                meter = CpuMeter(
                    {"auth": lambda: [auth_pid], "postgres": lambda: children(pg_pid), "bench": lambda: [os.getpid()]}
                )
                load = SigninLoad("127.0.0.1", stack.services["auth"].port, emails, c)
                meter.start()
                try:
                    step = await closed_loop("sign-in", load, c, timing)
                finally:
                    load.close()
                step.cpu = meter.stop()
                print(step.summary(), flush=True)
                steps.append(step)
        finally:
            stack.stop()
        return machine, steps
    finally:
        infra.close()


def render(machine: Machine, steps: list[Step], costs: list[HashCost], command: str, timing: Timing) -> str:
    settings = Settings.model_fields
    rows = "\n".join(
        f"| {s.concurrency} | {s.rate:.1f} | {s.p50:.1f} | {s.p99:.1f} | {s.errors} | "
        f"{s.cpu.get('auth', 0):.2f} | {s.cpu.get('postgres', 0):.2f} | {s.cpu.get('bench', 0):.2f} | "
        f"{s.cpu.get('other', 0):.2f} |"
        for s in steps
    )
    hashes = "\n".join(
        f"| {c.memory_kib // 1024} MiB | {c.time_cost} | {c.per_s:.1f} | {c.ms:.1f} |"
        + (" the service's default |" if (c.memory_kib, c.time_cost) == PARAMETERS[0] else " |")
        for c in costs
    )
    default = costs[0]
    best = max(steps, key=lambda s: s.rate) if steps else None
    reading = (
        f"One core makes {default.per_s:.0f} argon2id hashes a second with the default parameters "
        f"({default.ms:.0f} ms of CPU each); a sign-in checks one hash, so on this machine's "
        f"{machine.nproc} cores, shared with PostgreSQL and the load generator, sign-in tops out near "
        f"{best.rate:.0f}/s at {best.concurrency} clients. Past `AUTH_HASH_CONCURRENCY` "
        f"({settings['hash_concurrency'].default}) sign-ins at once, the others queue for a hashing slot: "
        "latency grows with the clients, the rate does not. An unknown address costs the same (a dummy "
        "hash is checked)."
        if best
        else ""
    )
    machine_rows = "\n".join(f"| {k} | {v} |" for k, v in machine.rows())
    return f"""## Sign-in: `POST /api/auth/signin`

Generated by `{command}`. Closed loop: N clients each sign in (e-mail and password, {USERS} users in
turn, the right password) and send the next request when the answer arrives; {timing.warmup_s:g} s of
warm-up, then {timing.measure_s:g} s measured; rates count the 200 answers inside the window. The auth
service is the real process with its defaults (argon2id {OWASP_MEMORY_KIB // 1024} MiB, {OWASP_TIME_COST}
iterations, parallelism 1), on a PostgreSQL of its own (fsync off) and nats-server. CPU in cores;
`other` is the rest of the machine (anything above a few hundredths disturbed the step).

| clients | sign-ins/s | p50 ms | p99 ms | errors | auth CPU | postgres CPU | bench CPU | other CPU |
|---|---|---|---|---|---|---|---|---|
{rows}

argon2id on one core (this process, one thread, parallelism 1, by CPU time):

| memory | iterations | hashes/s | ms per hash | |
|---|---|---|---|---|
{hashes}

{reading}

| machine | |
|---|---|
{machine_rows}
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.signin", description=__doc__)
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per step (2)")
    p.add_argument("--measure", type=float, default=8.0, help="measured seconds per step (8)")
    p.add_argument("--concurrency", default="1,16", help="clients per step, comma-separated (1,16)")
    p.add_argument("--hash-seconds", type=float, default=2.0, help="seconds per argon2 parameter set (2)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the page to write")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    timing = Timing(args.warmup, args.measure)
    costs = [hash_rate(m, t, args.hash_seconds) for m, t in PARAMETERS]
    for c in costs:
        print(f"argon2id {c.memory_kib // 1024} MiB t={c.time_cost}: {c.per_s:.1f}/s, {c.ms:.1f} ms", flush=True)

    async def run() -> tuple[Machine, list[Step]]:
        cancel_on_signals()
        return await measure(timing, [int(x) for x in args.concurrency.split(",")])

    try:
        machine, steps = asyncio.run(run())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: servers stopped, nothing written", file=sys.stderr)
        return 130
    command = "uv run --frozen python -m tests.bench.signin" + "".join(
        f" {shlex.quote(a)}" for a in (argv or sys.argv[1:])
    )
    old = args.out.read_text() if args.out.exists() else "# Benchmarks\n"
    args.out.write_text(with_section(old, SECTION, render(machine, steps, costs, command, timing)))
    print(f"wrote the `{SECTION}` section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
