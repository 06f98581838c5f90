"""What a service process opens at start-up and closes at shutdown, in the right order.

`Runtime.start` connects to PostgreSQL (pool bound to the service schema) and NATS (reconnecting
forever), provisions the streams it needs (idempotent) and starts the outbox relay. The service then
starts its consumers (`run_consumers`, provisioned idempotently) and periodic jobs (`every`), all as
background tasks. `close` stops them, drains NATS and closes the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from brigade_common import dependencies
from brigade_common.consumer import ConsumerRunner, ConsumerSpec
from brigade_common.db import create_pool
from brigade_common.dependencies import Outages
from brigade_common.health import ReadinessChecks, database_check, migrations_check, nats_check
from brigade_common.jetstream import connect, ensure_stream, stream_config
from brigade_common.logging import get_logger
from brigade_common.outbox import OutboxRelay, OutboxRow
from brigade_common.revisions import current_revision, head_revision
from brigade_common.service import ServiceDefinition
from brigade_common.settings import DatabaseSettings, ServiceSettings

log = get_logger(__name__)


@dataclass
class Runtime:
    service: str
    nc: NATS
    js: JetStreamContext
    pool: asyncpg.Pool | None = None
    schema: str | None = None
    relay: OutboxRelay | None = None
    consumers: list[ConsumerRunner] = field(default_factory=list)
    readiness: ReadinessChecks = field(default_factory=ReadinessChecks)
    outages: Outages | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def db(self) -> asyncpg.Pool:
        assert self.pool is not None, f"{self.service} has no database"
        return self.pool

    def notify_outbox(self, rows: Sequence[OutboxRow]) -> None:
        """Hand the relay the outbox rows a commit wrote: it publishes them at once."""
        if self.relay:
            self.relay.committed(rows)

    def spawn(self, coro: Awaitable[None], name: str) -> None:
        """Run a background task for the life of the process; a crash is logged, never silent."""

        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background_task_crashed", task=name)
                raise

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def run_consumers(self, specs: Sequence[ConsumerSpec]) -> None:
        """Provision each durable consumer (create or update) and run it until `close`."""
        for spec in specs:
            runner = ConsumerRunner(
                spec, pool=self.db, nc=self.nc, js=self.js, service=self.service, outages=self.outages
            )
            await runner.provision()
            self.consumers.append(runner)
            self.spawn(runner.run(), f"consumer:{spec.name}")
        if specs:
            log.info("consumers_started", consumers=[s.name for s in specs])

    def every(self, interval_s: float, job: Callable[[], Awaitable[object]], name: str) -> None:
        """Run `job` every `interval_s` seconds until `close` (the first run after one interval); a
        failing run is logged and the next one comes all the same."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(interval_s)
                try:
                    result = await job()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("periodic_job_failed", job=name, error=repr(exc))
                else:
                    log.debug("periodic_job_ran", job=name, result=result)

        self.spawn(loop(), f"every:{name}")

    @classmethod
    async def open(
        cls, definition: ServiceDefinition[Any], settings: ServiceSettings, readiness: ReadinessChecks | None = None
    ) -> Runtime:
        """`start` for a declared service: its name, schema, migrations and streams from its
        definition, the connections and pool size from its settings."""
        database = settings if isinstance(settings, DatabaseSettings) else None
        return await cls.start(
            definition.name,
            nats_url=settings.nats_url,
            database_url=database.database_url.get_secret_value() if database else None,
            schema=definition.schema,
            pool_size=database.database_pool_size if database else 10,
            migrations_dir=definition.migrations_dir,
            relay=database.outbox_relay if database else False,
            streams=[stream_config(**asdict(spec), replicas=settings.nats_replicas) for spec in definition.streams],
            readiness=readiness,
        )

    @classmethod
    async def start(
        cls,
        service: str,
        *,
        nats_url: str,
        database_url: str | None = None,
        schema: str | None = None,
        pool_size: int = 10,
        migrations_dir: Path | None = None,
        streams: Sequence[StreamConfig] = (),
        relay: bool = True,
        relay_sweep_s: float = 1.0,
        readiness: ReadinessChecks | None = None,
    ) -> Runtime:
        """Open everything; `readiness` (the app's) receives the database, NATS and migration checks."""
        nc = await connect(nats_url, name=service)
        js = nc.jetstream()
        checks = readiness if readiness is not None else ReadinessChecks()
        rt = cls(service=service, nc=nc, js=js, schema=schema, readiness=checks)
        try:
            if database_url:
                assert schema, "a database needs its schema"
                rt.pool = await create_pool(database_url, schema, max_size=pool_size, application_name=service)
                rt.readiness.add("database", database_check(rt.pool))
                if migrations_dir is not None:
                    head = head_revision(migrations_dir)
                    pool = rt.pool

                    async def current() -> str | None:
                        return await current_revision(pool, schema)

                    rt.readiness.add("migrations", migrations_check(current, head))
            rt.readiness.add("nats", nats_check(nc))
            probes = {dependencies.NATS: nats_check(nc)}
            if rt.pool is not None:
                probes[dependencies.DATABASE] = database_check(rt.pool)
            rt.outages = Outages(service, probes)
            for stream in streams:
                await ensure_stream(js, stream)
            if rt.pool is not None and relay:
                rt.relay = OutboxRelay(rt.pool, js, service=service, sweep_interval_s=relay_sweep_s)
                rt.spawn(rt.relay.run(), "outbox-relay")
        except BaseException:
            await rt.close()
            raise
        log.info("runtime_started", streams=[s.name for s in streams])
        return rt

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=10)
            for task in stuck:
                log.error("background_task_did_not_stop", task=task.get_name())
        self._tasks.clear()
        if self.outages is not None:
            await self.outages.close()
        with contextlib.suppress(Exception):
            await self.nc.drain()
        if self.pool is not None:
            await self.pool.close()
