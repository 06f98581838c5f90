"""Telling "a dependency is down" from "this would fail again", and riding an outage out.

A failure is *transient* when PostgreSQL or NATS is unavailable: the connection is refused, lost or
not there yet, the server is starting up or shutting down, the pool has no connection to give, a
NATS request timed out or JetStream has no responders. Nothing about the message or the request is
wrong, so it must not be answered like a bad one: a consumer holds the message and waits for the
dependency instead of burning a delivery (it never reaches the dead-letter stream for this), and an
HTTP request gets a 503 with `Retry-After` naming the dependency instead of a 500.

`Outages` is one process's view of its dependencies: the first transient failure marks one down
(logged once, `brigade_dependency_up` gauge at 0), one probe per dependency retries it with back-off,
and everyone waiting resumes the moment it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType

import asyncpg
import nats.errors
import nats.js.errors

from brigade_common.logging import get_logger
from brigade_common.metrics import DEPENDENCY_PROBES, DEPENDENCY_UP

log = get_logger(__name__)

DATABASE = "database"
NATS = "nats"

_DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: connection lost, refused by the server, …
    asyncpg.OperatorInterventionError,  # class 57: shutting down, starting up ("cannot connect now")
    asyncpg.TooManyConnectionsError,
)
_NATS_ERRORS: tuple[type[BaseException], ...] = (
    nats.errors.TimeoutError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.NoServersError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.errors.FlushTimeoutError,
    nats.errors.NoRespondersError,
    nats.js.errors.ServiceUnavailableError,  # JetStream not (yet) answering: a restarting server
)
_SOCKET_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT, errno.EHOSTUNREACH}
)
RETRY_AFTER_S = 5


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _raised_in(tb: TracebackType | None) -> str | None:
    """Which client library a socket error came out of, from the frames it went through."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if "/asyncpg/" in filename:
            found = DATABASE
        elif "/nats/" in filename:
            found = NATS
        tb = tb.tb_next
    return found


def unavailable(exc: BaseException) -> str | None:
    """The dependency whose unavailability `exc` (or what caused it) is — `"database"` or `"nats"` —
    or None when it is a failure of another kind."""
    for error in _chain(exc):
        if isinstance(error, _DATABASE_ERRORS):
            return DATABASE
        if isinstance(error, asyncpg.InterfaceError) and "closed" in str(error):
            return DATABASE  # "connection is closed": the server went away under the connection
        if isinstance(error, asyncpg.InternalClientError) and "another operation" in str(error):
            # A pooled connection whose last operation the server's death cut off: it is unusable,
            # and the pool replaces it; nothing is wrong with the request.
            return DATABASE
        if isinstance(error, _NATS_ERRORS):
            return NATS
        if isinstance(error, OSError) and (error.errno in _SOCKET_ERRNOS or isinstance(error, ConnectionError)):
            where = _raised_in(error.__traceback__)
            if where is not None:
                return where
        if isinstance(error, TimeoutError) and _raised_in(error.__traceback__) == DATABASE:
            return DATABASE  # connecting (or waiting for a connection) timed out
    return None


Probe = Callable[[], Awaitable[object]]


@dataclass
class _Dependency:
    probe: Probe
    up: asyncio.Event = field(default_factory=asyncio.Event)
    since: float = 0.0
    task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.up.set()


class Outages:
    """A process's dependencies, each with the probe that tells whether it answers again."""

    def __init__(
        self,
        service: str,
        probes: Mapping[str, Probe],
        *,
        backoff_s: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 5.0),
    ) -> None:
        self.service = service
        self.backoff_s = backoff_s
        self._deps = {name: _Dependency(probe) for name, probe in probes.items()}
        for name in self._deps:
            DEPENDENCY_UP.labels(service, name).set(1)

    def down(self) -> list[str]:
        """The dependencies known to be down right now."""
        return [name for name, dep in self._deps.items() if not dep.up.is_set()]

    def report(self, name: str, error: BaseException) -> None:
        """`name` failed with a transient error: mark it down (once) and start probing it."""
        dep = self._deps.get(name)
        if dep is None or not dep.up.is_set():
            return
        dep.up.clear()
        dep.since = time.monotonic()
        DEPENDENCY_UP.labels(self.service, name).set(0)
        log.warning("dependency_unavailable", dependency=name, error=repr(error))
        dep.task = asyncio.create_task(self._probe(name, dep), name=f"probe:{name}")

    async def _probe(self, name: str, dep: _Dependency) -> None:
        attempt = 0
        while True:
            await asyncio.sleep(self.backoff_s[min(attempt, len(self.backoff_s) - 1)])
            attempt += 1
            DEPENDENCY_PROBES.labels(self.service, name).inc()
            try:
                await dep.probe()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("dependency_still_unavailable", dependency=name, attempt=attempt, error=repr(exc))
                continue
            break
        DEPENDENCY_UP.labels(self.service, name).set(1)
        log.info("dependency_back", dependency=name, down_s=round(time.monotonic() - dep.since, 2))
        dep.up.set()

    async def wait(
        self, name: str, *, keep_alive: Callable[[], Awaitable[object]] | None = None, every_s: float = 5.0
    ) -> None:
        """Until `name` answers again; `keep_alive` runs every `every_s` seconds meanwhile (a held
        message's ack timer)."""
        dep = self._deps[name]
        while not dep.up.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every_s):
                    await dep.up.wait()
            if keep_alive is not None and not dep.up.is_set():
                with contextlib.suppress(Exception):  # NATS may be the one that is down
                    await keep_alive()

    async def all_up(self) -> None:
        """Until no dependency is down."""
        for dep in self._deps.values():
            await dep.up.wait()

    async def close(self) -> None:
        for dep in self._deps.values():
            if dep.task is not None:
                dep.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await dep.task
