"""A read-through cache on a JetStream KV bucket, with a copy in each process kept by a watcher.

A read looks in the process's own copy, then in the bucket, then asks its source (PostgreSQL) and
puts what it got in the bucket for the next reader; entries live `ttl_s` (the bucket's max age). A
writer invalidates after its commit (in practice: from the event its outbox sent) by deleting the
key; every process watches the bucket, so a delete reaches every copy.

Two rules keep a stale value out:
- A reader that missed puts its value only if the key is still as it found it (`update` with the
  revision it saw, 0 for none): a writer that invalidated while the reader was loading wins, and
  that reader's value, possibly read before the writer's commit, is not cached.
- A process's copy is trusted only while the watcher is connected and has caught up; on a
  disconnect or a reconnect it is dropped, and later deletes only remove older revisions.

NATS unavailable degrades to the source: a read never fails because the cache did.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js.api import KeyValueConfig
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue, StopIterSentinel

from brigade_common.logging import get_logger

log = get_logger(__name__)

V = TypeVar("V")
# What a NATS outage or a missing bucket raises (the client's errors all derive from the first).
_UNAVAILABLE = (nats.errors.Error, TimeoutError, OSError)
# How often the watcher checks for a reconnect, and waits before watching again after a failure.
_REWATCH_S = 0.5
# How long stopping may wait on NATS.
_CLOSE_S = 2.0


@dataclass
class CacheStats:
    """How reads were answered since start: the process's copy, the bucket, or the source."""

    local: int = 0
    bucket: int = 0
    source: int = 0
    degraded: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.local + self.bucket + self.source
        return (self.local + self.bucket) / total if total else 0.0


@dataclass(frozen=True)
class Codec(Generic[V]):
    encode: Callable[[V], bytes]
    decode: Callable[[bytes], V]


@dataclass
class _Copy(Generic[V]):
    revision: int
    value: V
    until: float


@dataclass
class ReadThroughCache(Generic[V]):
    """Values by key from bucket `bucket`; `start` it on a connection, `close` it at shutdown."""

    bucket: str
    ttl_s: float
    codec: Codec[V]
    # How long a bucket operation may take before the read goes to the source instead.
    timeout_s: float = 0.25
    # On how many NATS servers the bucket is kept (as the service's streams: NATS_REPLICAS).
    replicas: int = 1
    clock: Callable[[], float] = time.monotonic
    stats: CacheStats = field(default_factory=CacheStats)
    # Told what answered each read ("local", "bucket", "source", "degraded"): e.g. a metric's counter.
    on_read: Callable[[str], None] | None = None
    _nc: NATS | None = field(default=None, init=False)
    _kv: KeyValue | None = field(default=None, init=False)
    _copies: dict[str, _Copy[V]] = field(default_factory=dict, init=False)
    _caught_up: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _reconnects: int = field(default=0, init=False)
    _watching: asyncio.Task[None] | None = field(default=None, init=False)

    async def start(self, nc: NATS) -> None:
        """Open (or create) the bucket and follow it. While NATS is away the cache is off and every
        read goes to the source; it opens the bucket when NATS comes back."""
        self._nc = nc
        await self._open(nc)
        self._watching = asyncio.create_task(self._follow(nc), name=f"cache-watch-{self.bucket}")

    async def _open(self, nc: NATS) -> KeyValue | None:
        if self._kv is None:
            js = nc.jetstream(timeout=max(self.timeout_s, 2.0))
            try:
                self._kv = await js.create_key_value(
                    KeyValueConfig(bucket=self.bucket, ttl=self.ttl_s, history=1, replicas=self.replicas)
                )
            except nats.js.errors.BadRequestError:  # it exists, made with other settings: use it as it is
                self._kv = await js.key_value(self.bucket)
            except _UNAVAILABLE as exc:
                log.warning("cache_unavailable", bucket=self.bucket, error=str(exc))
        return self._kv

    async def close(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            # Its watcher's unsubscribe goes over the connection: bounded, for a connection in trouble.
            await asyncio.wait({self._watching}, timeout=_CLOSE_S)
        self._copies.clear()

    async def get(self, key: str, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The value of `key`: cached, or `load()`ed and cached (a None is not cached)."""
        copy = self._trusted_copy(key)
        if copy is not None:
            self._count("local")
            return copy.value
        kv = self._kv
        if kv is None or self._nc is None or not self._nc.is_connected:
            self._count("degraded")
            return await load()
        try:
            entry = await asyncio.wait_for(kv.get(key), self.timeout_s)
        except nats.js.errors.KeyNotFoundError as missing:
            seen = missing.entry.revision if missing.entry is not None and missing.entry.revision else 0
        except _UNAVAILABLE:
            self._count("degraded")
            return await load()
        else:
            assert entry.value is not None and entry.revision is not None
            cached = self.codec.decode(entry.value)
            self._keep(key, entry.revision, cached)
            self._count("bucket")
            return cached
        self._count("source")
        loaded = await load()
        if loaded is not None:
            await self._put(kv, key, loaded, seen)
        return loaded

    def _count(self, answered_by: str) -> None:
        setattr(self.stats, answered_by, getattr(self.stats, answered_by) + 1)
        if self.on_read is not None:
            self.on_read(answered_by)

    async def invalidate(self, *keys: str) -> None:
        """Delete `keys` everywhere; raises when NATS cannot take it (the caller's message is then
        redelivered, so the invalidation is not lost)."""
        for key in keys:  # this process reads the change at once, before its watcher hears of it
            self._copies.pop(key, None)
        if self._kv is None:
            raise nats.errors.NoServersError
        for key in keys:
            await self._kv.delete(key)

    async def _put(self, kv: KeyValue, key: str, value: V, seen: int) -> None:
        try:
            revision = await asyncio.wait_for(kv.update(key, self.codec.encode(value), last=seen), self.timeout_s)
        except nats.js.errors.KeyWrongLastSequenceError:
            return  # someone wrote or invalidated it meanwhile: theirs is newer than what we read
        except _UNAVAILABLE:
            return
        self._keep(key, revision, value)

    def _trusted_copy(self, key: str) -> _Copy[V] | None:
        nc = self._nc
        # Only while the watcher that started on this connection has caught up: across a reconnect
        # it may have missed deletes (nats-py's ordered consumer notices a restarted server only
        # after its heartbeats fail), so `_follow` starts a new one.
        if nc is None or not self._caught_up.is_set() or not nc.is_connected:
            return None
        if nc.stats["reconnects"] != self._reconnects:
            return None
        copy = self._copies.get(key)
        if copy is None or copy.until <= self.clock():
            return None
        return copy

    def _keep(self, key: str, revision: int, value: V) -> None:
        held = self._copies.get(key)
        if held is None or held.revision < revision:
            self._copies[key] = _Copy(revision, value, self.clock() + self.ttl_s)

    def _forget(self, key: str, revision: int) -> None:
        held = self._copies.get(key)
        if held is not None and held.revision < revision:
            del self._copies[key]

    async def _follow(self, nc: NATS) -> None:
        """Keep a watcher on the bucket, a new one after every reconnect."""
        while True:
            self._caught_up.clear()
            self._copies.clear()  # what a missed delete may have left stale
            self._reconnects = nc.stats["reconnects"]
            try:
                kv = await self._open(nc)
                if kv is None:
                    await asyncio.sleep(_REWATCH_S)
                    continue
                watcher = await kv.watchall()
            except _UNAVAILABLE:
                await asyncio.sleep(_REWATCH_S)
                continue
            try:
                await self._apply(nc, watcher)
            except _UNAVAILABLE:
                await asyncio.sleep(_REWATCH_S)
            finally:
                await asyncio.shield(_stop(watcher))

    async def _apply(self, nc: NATS, watcher: KeyValue.KeyWatcher) -> None:
        """Apply the watcher's entries to the copies until the connection was re-established."""
        while nc.stats["reconnects"] == self._reconnects:
            try:
                entry = await watcher.updates(timeout=_REWATCH_S)  # type: ignore[no-untyped-call]
            except nats.errors.TimeoutError:
                continue
            if entry is None:  # the values the bucket held at start have all arrived
                self._caught_up.set()
                continue
            if isinstance(entry, StopIterSentinel):
                return
            assert entry.revision is not None
            if entry.operation in (KV_DEL, KV_PURGE):
                self._forget(entry.key, entry.revision)
            elif entry.value is not None:
                self._keep(entry.key, entry.revision, self.codec.decode(entry.value))


async def _stop(watcher: KeyValue.KeyWatcher) -> None:
    with contextlib.suppress(*_UNAVAILABLE):
        await asyncio.wait_for(watcher.stop(), _CLOSE_S)  # type: ignore[no-untyped-call]
