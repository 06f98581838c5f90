"""The read-through cache against a real nats-server: hits leave the source alone, an invalidation
reaches every process, a reader racing a writer never caches the older value, and no NATS means
reads from the source, not errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import nats.errors
import pytest
from nats.aio.client import Client as NATS

from brigade_common.devservers import NatsServer
from brigade_common.jetstream import connect
from brigade_common.kv_cache import Codec, ReadThroughCache
from brigade_common.testing.waiting import eventually

JSON: Codec[dict[str, object]] = Codec(lambda v: json.dumps(v).encode(), json.loads)
Cache = ReadThroughCache[dict[str, object]]


class Source:
    """The database behind the cache: a dict, counting its reads."""

    def __init__(self, **rows: dict[str, object]) -> None:
        self.rows = dict(rows)
        self.reads = 0

    def loader(self, key: str) -> Callable[[], Awaitable[dict[str, object] | None]]:
        async def load() -> dict[str, object] | None:
            self.reads += 1
            return self.rows.get(key)

        return load


@pytest.fixture
async def caches(nats_url: str) -> AsyncIterator[Callable[[], Awaitable[Cache]]]:
    """Caches of one bucket, each on its own connection: one per kitchen process."""
    opened: list[tuple[Cache, NATS]] = []

    async def open_one() -> Cache:
        nc = await connect(nats_url, name="cache-test")
        cache = Cache("dishes", ttl_s=300, codec=JSON)
        await cache.start(nc)
        opened.append((cache, nc))
        return cache

    yield open_one
    for cache, nc in opened:
        await cache.close()
        await nc.close()


async def test_a_second_read_comes_from_the_cache_not_the_source(caches: Callable[[], Awaitable[Cache]]) -> None:
    cache = await caches()
    source = Source(soup={"name": "Soup", "version": 1})
    assert await cache.get("soup", source.loader("soup")) == {"name": "Soup", "version": 1}
    for _ in range(5):
        assert await cache.get("soup", source.loader("soup")) == {"name": "Soup", "version": 1}
    assert source.reads == 1
    assert cache.stats.source == 1 and cache.stats.local + cache.stats.bucket == 5


async def test_another_process_reads_what_the_first_cached_without_the_source(
    caches: Callable[[], Awaitable[Cache]],
) -> None:
    first, second = await caches(), await caches()
    source = Source(soup={"name": "Soup"})
    await first.get("soup", source.loader("soup"))
    assert await second.get("soup", source.loader("soup")) == {"name": "Soup"}
    assert source.reads == 1


async def test_an_invalidation_reaches_every_process(caches: Callable[[], Awaitable[Cache]]) -> None:
    first, second = await caches(), await caches()
    source = Source(soup={"name": "Soup", "version": 1})
    await first.get("soup", source.loader("soup"))
    await eventually(lambda: second._trusted_copy("soup") is not None, what="the second process holds a copy")

    source.rows["soup"] = {"name": "Soup", "version": 2}
    await first.invalidate("soup")

    async def second_sees_the_new_version() -> bool:
        return (await second.get("soup", source.loader("soup"))) == {"name": "Soup", "version": 2}

    await eventually(second_sees_the_new_version, what="the second process reads version 2")
    assert await first.get("soup", source.loader("soup")) == {"name": "Soup", "version": 2}


async def test_a_reader_that_loaded_before_an_invalidation_does_not_cache_its_older_value(
    caches: Callable[[], Awaitable[Cache]],
) -> None:
    reader, writer = await caches(), await caches()
    source = Source(soup={"name": "Soup", "version": 1})
    loaded = asyncio.Event()
    go_on = asyncio.Event()

    async def slow_load() -> dict[str, object] | None:
        value = source.rows["soup"]
        loaded.set()
        await go_on.wait()  # the writer commits and invalidates while this reader holds version 1
        return value

    reading = asyncio.create_task(reader.get("soup", slow_load))
    await loaded.wait()
    source.rows["soup"] = {"name": "Soup", "version": 2}
    await writer.invalidate("soup")
    go_on.set()
    assert await reading == {"name": "Soup", "version": 1}  # what it read, answered once

    # Nobody caches version 1: the next reads, in either process, get version 2.
    assert await writer.get("soup", source.loader("soup")) == {"name": "Soup", "version": 2}
    assert await reader.get("soup", source.loader("soup")) == {"name": "Soup", "version": 2}


async def test_a_missing_row_is_not_cached(caches: Callable[[], Awaitable[Cache]]) -> None:
    cache = await caches()
    source = Source()
    assert await cache.get("nothing", source.loader("nothing")) is None
    source.rows["nothing"] = {"name": "New"}
    assert await cache.get("nothing", source.loader("nothing")) == {"name": "New"}


async def _close_while_down(nc: NATS) -> None:
    # nats-py's close flushes to the socket it lost and raises that; nothing is left to flush.
    with contextlib.suppress(ConnectionResetError):
        await nc.close()


async def test_without_nats_every_read_comes_from_the_source(nats_server: NatsServer) -> None:
    nc = await connect(nats_server.url, name="cache-test")
    cache = Cache("dishes", ttl_s=300, codec=JSON)
    await cache.start(nc)
    source = Source(soup={"name": "Soup", "version": 1})
    await cache.get("soup", source.loader("soup"))
    try:
        nats_server.kill()
        await eventually(lambda: not nc.is_connected, what="the client notices NATS is gone")
        source.rows["soup"] = {"name": "Soup", "version": 2}
        # The copy it held may be stale now that no invalidation can reach it: the source answers.
        assert await cache.get("soup", source.loader("soup")) == {"name": "Soup", "version": 2}
        assert cache.stats.degraded == 1
    finally:
        await cache.close()
        await _close_while_down(nc)


async def test_a_cache_started_while_nats_is_down_reads_from_the_source_until_nats_is_back(
    nats_server: NatsServer,
) -> None:
    nc = await connect(nats_server.url, name="cache-test")
    nats_server.kill()
    await eventually(lambda: not nc.is_connected, what="the client notices NATS is gone")
    cache = Cache("dishes", ttl_s=300, codec=JSON, timeout_s=0.2)
    try:
        await cache.start(nc)
        source = Source(soup={"name": "Soup"})
        assert await cache.get("soup", source.loader("soup")) == {"name": "Soup"}
        assert source.reads == 1

        nats_server.start()

        async def answered_from_the_cache() -> bool:
            before = source.reads
            await cache.get("soup", source.loader("soup"))
            return source.reads == before

        await eventually(answered_from_the_cache, what="reads come from the cache again")
    finally:
        await cache.close()
        await _close_while_down(nc)


async def _invalidated(cache: Cache, key: str) -> bool:
    try:
        await cache.invalidate(key)
    except nats.errors.Error:
        return False
    return True


async def test_after_nats_comes_back_each_process_follows_the_invalidations_again(
    nats_server: NatsServer, caches: Callable[[], Awaitable[Cache]]
) -> None:
    writer, reader = await caches(), await caches()
    source = Source(soup={"name": "Soup", "version": 1})
    await reader.get("soup", source.loader("soup"))

    nats_server.kill()
    nats_server.start()
    source.rows["soup"] = {"name": "Soup", "version": 2}
    # Right after a restart JetStream may not answer yet: the invalidation's caller retries (a
    # consumer's message is redelivered), as here.
    await eventually(lambda: _invalidated(writer, "soup"), what="the writer invalidates once NATS is back")

    async def reader_reads(version: int) -> bool:
        return (await reader.get("soup", source.loader("soup"))) == {"name": "Soup", "version": version}

    await eventually(lambda: reader_reads(2), what="the reader reads version 2")
    # Its watcher is alive again: a later invalidation reaches its copy too.
    await eventually(lambda: reader._trusted_copy("soup") is not None, what="the reader holds a copy again")
    source.rows["soup"] = {"name": "Soup", "version": 3}
    await writer.invalidate("soup")
    await eventually(lambda: reader._trusted_copy("soup") is None, what="the reader drops its copy")
    assert await reader_reads(3)


async def test_an_entry_lives_its_ttl_then_the_source_is_asked_again(nats_url: str) -> None:
    nc = await connect(nats_url, name="cache-test")
    cache = Cache("short", ttl_s=1, codec=JSON)
    await cache.start(nc)
    source = Source(soup={"name": "Soup"})
    try:
        await cache.get("soup", source.loader("soup"))
        assert source.reads == 1
        await cache.get("soup", source.loader("soup"))
        assert source.reads == 1

        async def asked_again() -> bool:
            await cache.get("soup", source.loader("soup"))
            return source.reads == 2

        await eventually(asked_again, timeout=10, what="the source is asked once the entry expired")
    finally:
        await cache.close()
        await asyncio.wait_for(nc.close(), 10)
