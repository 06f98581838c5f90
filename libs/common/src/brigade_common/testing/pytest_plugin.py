"""Pytest fixtures that start real PostgreSQL and nats-server processes on free ports.

Enabled for the whole repository through `-p brigade_common.testing.pytest_plugin`. Each xdist
worker gets its own PostgreSQL server (a fresh database per test) and each test that asks gets its
own nats-server, so tests run in parallel without sharing state.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from brigade_common.devservers import FAST_SETTINGS, NatsCluster, NatsServer, PostgresServer, free_port


@contextmanager
def _scratch(prefix: str) -> Iterator[Path]:
    """A private directory for a server's data. Not under pytest's numbered base temp: another pytest
    session starting meanwhile prunes old numbered dirs and would delete a live server's files."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server per test session (per xdist worker)."""
    with _scratch("brigade-pg-") as root:
        server = PostgresServer(root / "data", free_port(), log_file=root / "pg.log", settings=FAST_SETTINGS)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _psql_admin(server: PostgresServer, sql: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(server.url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def database_url(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for this test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    _psql_admin(pg_server, f'CREATE DATABASE "{name}"')
    yield pg_server.url_for(name)
    _psql_admin(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    """A fresh nats-server with JetStream for this test."""
    with _scratch("brigade-nats-") as root:
        server = NatsServer(root / "store", free_port(), log_file=root / "nats.log")
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url


@pytest.fixture
def nats_cluster() -> Iterator[NatsCluster]:
    """A fresh three-server NATS cluster with JetStream for this test, ready for streams of three
    replicas (its JetStream has a leader)."""
    import asyncio

    from brigade_common.jetstream import wait_for_jetstream

    with _scratch("brigade-nats-cluster-") as root:
        cluster = NatsCluster(root)
        cluster.start()
        try:
            asyncio.run(wait_for_jetstream(cluster.url))
            yield cluster
        finally:
            cluster.stop()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--dist loadgroup`: a test marked `xdist_group(name)` gets `@name` after its node id, so that
    xdist sends every test of a group to one worker (one control plane, one contract stack per run).

    pytest-xdist 3.8 does this by assigning `item._nodeid`, which pytest 9.2 no longer reads (the node
    id is `str(item._id)`, a `NodeId`); where xdist's own suffix took, the id is left alone.
    """
    # The controller says "dist", its workers (where collection happens) get xdist's "loadgroup" flag.
    if getattr(config.option, "dist", None) != "loadgroup" and not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        if not groups or "@" in item.nodeid.rpartition("]")[2]:
            continue  # no group, or xdist's own suffix took (a pytest older than 9.2)
        from _pytest.nodeid import NodeId  # pytest 9.2's structured node id

        item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")
