"""The streams, read with consumers of the live process's own: nothing durable, nothing acknowledged.

Following a channel is an ordered push consumer (nats-py recreates it from the last sequence it
delivered when a heartbeat is missed or the server restarts), so the feed sees every message once,
in order. A replay is an ephemeral pull consumer from `after + 1`, read a page at a time at the
pace of the socket it is for, removed when done (and by the server, if the process dies, once
`inactive_threshold` passes).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from brigade_live.service.ports import Stored

REPLAY_IDLE_S = 60.0
FETCH_TIMEOUT_S = 5.0


def _filtered(subjects: tuple[str, ...], config: ConsumerConfig) -> tuple[str, ConsumerConfig]:
    """The subject nats-py is given and the consumer's filter: one subject, or several in one
    consumer (`filter_subjects`, nats-server 2.10+; nats-py then leaves `filter_subject` unset)."""
    if len(subjects) > 1:
        config.filter_subjects = list(subjects)
    return subjects[0], config


def _stored(msg: Msg) -> Stored:
    return Stored(msg.metadata.sequence.stream, msg.subject, msg.data)


class _Following:
    def __init__(self, sub: JetStreamContext.PushSubscription) -> None:
        self._sub = sub

    async def stop(self) -> None:
        with contextlib.suppress(nats.errors.ConnectionClosedError, nats.errors.BadSubscriptionError):
            await self._sub.unsubscribe()


class JetStreamLog:
    def __init__(self, js: JetStreamContext) -> None:
        self.js = js

    async def bounds(self, stream: str) -> tuple[int, int]:
        state = (await self.js.stream_info(stream)).state
        last = state.last_seq
        return (state.first_seq if state.messages else last + 1), last

    async def follow(
        self, stream: str, subjects: tuple[str, ...], after: int, deliver: Callable[[Stored], None]
    ) -> _Following:
        async def on_message(msg: Msg) -> None:
            deliver(_stored(msg))

        subject, config = _filtered(subjects, ConsumerConfig(opt_start_seq=after + 1))
        sub = await self.js.subscribe(
            subject,
            stream=stream,
            cb=on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            config=config,
        )
        return _Following(sub)

    async def replay(
        self, stream: str, subjects: tuple[str, ...], after: int, until: int, page: int
    ) -> AsyncIterator[list[Stored]]:
        subject, config = _filtered(
            subjects,
            ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=after + 1,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=REPLAY_IDLE_S,
                mem_storage=True,
                num_replicas=1,
            ),
        )
        sub = await self.js.pull_subscribe(subject, stream=stream, config=config)
        info = await sub.consumer_info()
        try:
            if info.num_pending == 0:
                return
            while True:
                try:
                    msgs = await sub.fetch(page, timeout=FETCH_TIMEOUT_S)
                except TimeoutError:
                    return  # nothing more is stored
                out = [_stored(m) for m in msgs if m.metadata.sequence.stream <= until]
                if out:
                    yield out
                last = msgs[-1].metadata
                if last.sequence.stream >= until or last.num_pending == 0:
                    return
        finally:
            try:
                await sub.unsubscribe()
                await self.js.delete_consumer(stream, info.name)
            except (TimeoutError, nats.errors.Error):
                pass  # the server removes it once inactive_threshold passes
