"""Liveness and readiness: `/healthz` says the process serves, `/readyz` says its dependencies answer.

A readiness check is an `async () -> None` that raises to signal failure. Checks run concurrently,
each under its own timeout, so one hung dependency cannot stall the probe or hide the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from brigade_common.db import Reads
from brigade_common.problems import FieldError, ServiceUnavailable, problem_response

if TYPE_CHECKING:
    import asyncpg
    from nats.aio.client import Client

Check = Callable[[], Awaitable[None]]

DEFAULT_TIMEOUT_S = 2.0


class ReadinessChecks:
    """A named, mutable collection of readiness checks (add more in the app's lifespan)."""

    def __init__(self, checks: Mapping[str, Check] | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._checks: dict[str, tuple[Check, float]] = {}
        for name, check in (checks or {}).items():
            self.add(name, check)

    def add(self, name: str, check: Check, *, timeout_s: float | None = None) -> None:
        """Register (or replace) the check called `name`."""
        self._checks[name] = (check, self.timeout_s if timeout_s is None else timeout_s)

    def remove(self, name: str) -> None:
        """Forget the check called `name` (no error when absent)."""
        self._checks.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def __iter__(self) -> Iterator[str]:
        return iter(self._checks)

    def __len__(self) -> int:
        return len(self._checks)

    async def run(self) -> dict[str, str | None]:
        """Run every check concurrently; map each name to None (passed) or a short error message."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_one(*self._checks[n]) for n in names))
        return dict(zip(names, results, strict=True))

    @staticmethod
    async def _run_one(check: Check, timeout_s: float) -> str | None:
        try:
            async with asyncio.timeout(timeout_s):
                await check()
        except TimeoutError:
            return f"timed out after {timeout_s:g}s"
        except Exception as exc:  # a failing dependency is an answer, not a crash
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return None


async def healthz(request: Request) -> Response:
    """`GET /healthz`: 200 while the process serves requests."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """`GET /readyz`: 200 when every check passes, else a 503 problem naming each failing check."""
    checks: ReadinessChecks | None = getattr(request.app.state, "readiness", None)
    results = await checks.run() if checks is not None else {}
    report = {name: error or "ok" for name, error in results.items()}
    failing = {name: error for name, error in results.items() if error is not None}
    # Which process answered, when it was told (`python -m brigade_<svc> api` tells it): replicas share a port.
    instance: str | None = getattr(request.app.state, "instance", None)
    identity = {"instance": instance} if instance else {}
    if not failing:
        return JSONResponse({"status": "ready", "checks": report, **identity})
    problem = ServiceUnavailable(
        f"{len(failing)} of {len(results)} readiness checks failed: {', '.join(sorted(failing))}",
        type="not-ready",
        title="Not Ready",
        errors=[FieldError(field=name, message=error) for name, error in failing.items()],
        extensions={"checks": report, **identity},
    )
    request_id = request.scope.get("state", {}).get("request_id")
    return problem_response(problem, instance=request.url.path, request_id=request_id)


def database_check(pool: asyncpg.Pool) -> Check:
    """A check that runs `SELECT 1` on a connection from an asyncpg pool (given back unreset: a probe
    every few seconds of every replica should not cost PostgreSQL two round trips)."""
    reads = Reads(pool)

    async def check() -> None:
        await reads.fetchval("SELECT 1")

    return check


def nats_check(nc: Client) -> Check:
    """A check that the NATS client is connected, not draining, and answers a PING."""

    async def check() -> None:
        if nc.is_draining:
            raise RuntimeError("draining")
        if not nc.is_connected:
            raise RuntimeError("not connected")
        await nc.flush()

    return check


def migrations_check(get_current: Callable[[], Awaitable[str | None]], head: str | None) -> Check:
    """A check that the database schema is at `head`, the newest revision this code knows."""

    async def check() -> None:
        current = await get_current()
        if current != head:
            raise RuntimeError(f"database schema at revision {current!r}, this code expects {head!r}")

    return check
