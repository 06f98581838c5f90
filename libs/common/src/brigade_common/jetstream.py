"""NATS connection and idempotent JetStream provisioning."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from brigade_common.logging import get_logger

log = get_logger(__name__)


async def connect(url: str, name: str, **kwargs: Any) -> NATS:
    """Connect and keep reconnecting forever (nats-py gives up after ~2 minutes by default).

    `url` may list several servers of a cluster, comma-separated: the client starts with any that
    answers and moves to another when it goes."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats_error", error=str(exc))

    async def on_disconnect() -> None:
        log.warning("nats_disconnected")

    async def on_reconnect() -> None:
        log.info("nats_reconnected")

    options: dict[str, Any] = {
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.5,
        "connect_timeout": 5,
        "allow_reconnect": True,
        "error_cb": on_error,
        "disconnected_cb": on_disconnect,
        "reconnected_cb": on_reconnect,
    }
    options.update(kwargs)
    return await nats.connect([u.strip() for u in url.split(",") if u.strip()], **options)


async def wait_for_jetstream(url: str, timeout: float = 30.0) -> None:
    """Return once JetStream answers at `url` (a cluster's: once it has elected its leader, which
    streams of several replicas need); TimeoutError after `timeout` seconds."""
    nc = await nats.connect([u.strip() for u in url.split(",") if u.strip()], max_reconnect_attempts=-1)
    try:
        js = nc.jetstream(timeout=1.0)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await js.account_info()
                return
            except nats.errors.Error:
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"JetStream at {url} did not answer within {timeout:g}s") from None
                await asyncio.sleep(0.1)
    finally:
        await nc.close()


def stream_config(
    name: str,
    subjects: Iterable[str],
    *,
    allow_msg_schedules: bool = False,
    max_age_s: float = 7 * 24 * 3600,
    duplicate_window_s: float = 120.0,
    replicas: int = 1,
) -> StreamConfig:
    """Limits retention on file storage, as DESIGN §4 asks, kept on `replicas` servers of the
    cluster (its consumers inherit that); 1 for a single server."""
    return StreamConfig(
        name=name,
        num_replicas=replicas,
        subjects=list(subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=max_age_s,
        duplicate_window=duplicate_window_s,
        allow_msg_schedules=allow_msg_schedules or None,
    )


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or update it to `config` when it exists (idempotent)."""
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError as exc:
        # 10058: stream name already in use with a different configuration
        if exc.err_code != 10058:
            raise
        await js.update_stream(config)


async def ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    """Create or update a durable consumer (add_consumer does both on recent servers)."""
    await js.add_consumer(stream, config)


def durable_pull_config(
    durable: str,
    filter_subjects: list[str],
    *,
    max_deliver: int = 8,
    ack_wait_s: float = 30.0,
    max_ack_pending: int = 1000,
    deliver_new_only: bool = False,
) -> ConsumerConfig:
    """A durable pull consumer with explicit acks, resuming where it left off after any restart."""
    cfg = ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.NEW if deliver_new_only else DeliverPolicy.ALL,
        ack_wait=ack_wait_s,
        max_deliver=max_deliver,
        max_ack_pending=max_ack_pending,
    )
    if len(filter_subjects) == 1:
        cfg.filter_subject = filter_subjects[0]
    else:
        cfg.filter_subjects = filter_subjects
    return cfg
