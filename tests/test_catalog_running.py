"""The declarations tell the truth about the running services: once every service of the catalog has
started, JetStream holds exactly the streams they declare and, on them, exactly the durable
consumers they declare. (Until the bootstraps read them from the definitions, this is what keeps
the two lists in step.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from brigade_common.jetstream import connect
from tests.e2e.harness import Stack, running


@pytest.fixture
async def stack(database_url: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    async with running(Stack(database_url, nats_url, tmp_path)) as started:
        yield started


async def test_jetstream_holds_what_the_services_declare(stack: Stack, nats_url: str) -> None:
    declared_streams = {stream.name for s in stack.catalog for stream in s.streams}
    declared_streams |= {f"KV_{bucket}" for s in stack.catalog for bucket in s.buckets}
    declared_consumers = {consumer for s in stack.catalog for consumer in s.consumers}
    nc = await connect(nats_url, name="catalog-test")
    try:
        js = nc.jetstream()
        streams = {info.config.name for info in await js.streams_info()}
        consumers = {
            info.name for stream in streams for info in await js.consumers_info(stream) if info.config.durable_name
        }
    finally:
        await nc.drain()
    assert streams == declared_streams, "a service provisions a stream its definition does not list, or the reverse"
    assert consumers == declared_consumers, "a service owns a durable consumer its definition does not list"
