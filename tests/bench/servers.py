"""The bench's own PostgreSQL and nats-server (free ports, temporary directories), and child processes.

Everything started here is stopped by `Infra.close` (the bench calls it in a `finally`, so Ctrl-C
and SIGTERM stop the servers too). Child processes run in their own sessions; stopping one signals
its whole process group, so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from brigade_common.devservers import (
    FAST_SETTINGS,
    NatsServer,
    PostgresServer,
    free_port,
    nats_server_binary,
    nats_server_version,
)


@dataclass
class Infra:
    """One PostgreSQL server for the whole run; nats-servers on demand (a fresh one per scenario)."""

    fast: bool
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="brigade-bench-")))
    pg: PostgresServer | None = None
    nats: list[NatsServer] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)

    def start_postgres(self) -> PostgresServer:
        settings = dict(FAST_SETTINGS) if self.fast else {}
        self.pg = PostgresServer(
            self.root / "pg", free_port(), log_file=self.root / "pg.log", settings=settings
        ).start()
        return self.pg

    def start_nats(self) -> NatsServer:
        n = len(self.nats)
        server = NatsServer(self.root / f"nats{n}", free_port(), log_file=self.root / f"nats{n}.log")
        self.nats.append(server)
        return server.start()

    def stop_nats(self, server: NatsServer) -> None:
        server.stop()
        with contextlib.suppress(ValueError):
            self.nats.remove(server)
        shutil.rmtree(server.store_dir, ignore_errors=True)

    async def fresh_database(self, prefix: str) -> str:
        """A new database; the ones made before are dropped (their scenarios are done), so that what
        PostgreSQL does with their rows (autovacuum, say) does not run under the next scenario."""
        assert self.pg is not None
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(self.pg.url)
        try:
            while self.databases:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.databases.pop()}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.databases.append(name)
        return self.pg.url_for(name)

    async def versions(self) -> tuple[str, str]:
        """(PostgreSQL version, nats-server version)."""
        assert self.pg is not None
        conn = await asyncpg.connect(self.pg.url)
        try:
            pg = str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()
        nats = ".".join(map(str, nats_server_version(nats_server_binary())))
        return pg, nats

    def close(self) -> None:
        for server in list(self.nats):
            with contextlib.suppress(Exception):
                server.stop()
        if self.pg is not None:
            with contextlib.suppress(Exception):
                self.pg.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """SIGTERM the process group, SIGKILL it after `timeout`; the process must lead its own session."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
