"""What the `DLQ` stream holds, how a dead letter is written there, and how entries are read back.

Two kinds of entry share the stream:
- a **dead letter**, written by the consumer runner (`dead_letter`): the message's bytes unchanged on
  `dlq.<context>.<consumer>`, with the error and where the message was (stream, sequence) in headers;
- a **max-deliveries advisory**, published by the server when a consumer used up `max_deliver`
  without settling a message (its process died each time, so nobody wrote a dead letter). It names
  the consumer, stream and sequence, and carries no payload: the message is still in its own stream,
  until that stream's limits remove it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import nats.errors
import pydantic
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RawStreamMsg

from brigade_common.envelope import Envelope, new_id

DLQ_STREAM = "DLQ"
ERROR = "Brigade-Error"
ORIGINAL_SUBJECT = "Brigade-Original-Subject"
ORIGINAL_STREAM = "Brigade-Original-Stream"
ORIGINAL_SEQ = "Brigade-Original-Seq"
# A fact of nats-server, not a Brigade contract: the subject ends in `<stream>.<consumer>`.
ADVISORY_PREFIX = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."
EVERYTHING = ">"
NO_MESSAGE = 10057  # JetStream's error code for deleting a sequence the stream does not hold


def dlq_subject(context: str, consumer: str) -> str:
    """Where a consumer's dead letters go: `dlq.<context>.<consumer>`."""
    return f"dlq.{context}.{consumer}"


async def dead_letter(js: JetStreamContext, msg: Msg, *, context: str, consumer: str, error: str) -> None:
    """Copy `msg` to `dlq.<context>.<consumer>` with the error; a repeat for the same message is a no-op."""
    meta = msg.metadata
    stream, seq = meta.stream, meta.sequence.stream
    headers = {
        ERROR: error[:4000],
        ORIGINAL_SUBJECT: msg.subject,
        ORIGINAL_STREAM: stream,
        ORIGINAL_SEQ: str(seq),
        "Nats-Msg-Id": f"dlq:{stream}:{seq}",
    }
    await js.publish(dlq_subject(context, consumer), msg.data, headers=headers)


@dataclass(frozen=True)
class DeadLetter:
    """One entry of the DLQ stream: a dead letter, or a max-deliveries advisory (`advisory`).

    `data` is the message as it was for a dead letter, the advisory's JSON for an advisory (whose
    `original_subject` is empty: only the original message, still in its stream, knows it).
    """

    subject: str
    data: bytes
    error: str
    original_subject: str
    original_seq: int
    original_stream: str = ""
    consumer: str = ""
    seq: int = 0
    time: datetime | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    advisory: bool = False

    @property
    def envelope(self) -> Envelope | None:
        """The envelope the message travels in, or None (an advisory, or bytes that are not one)."""
        if self.advisory:
            return None
        try:
            return Envelope.from_bytes(self.data)
        except pydantic.ValidationError:
            return None

    @classmethod
    def stored(
        cls, subject: str, data: bytes, headers: Mapping[str, str] | None, seq: int, time: datetime | None
    ) -> DeadLetter:
        """The entry stored at `seq` of the DLQ stream, as read from it."""
        h = dict(headers or {})
        if subject.startswith(ADVISORY_PREFIX):
            return _advisory(subject, data, h, seq, time)
        return cls(
            subject=subject,
            data=data,
            error=h.get(ERROR, ""),
            original_subject=h.get(ORIGINAL_SUBJECT, ""),
            original_seq=_int(h.get(ORIGINAL_SEQ)),
            original_stream=h.get(ORIGINAL_STREAM, ""),
            consumer=subject.rsplit(".", 1)[-1],  # durable names hold no dots; contexts might
            seq=seq,
            time=time,
            headers=h,
        )


def _advisory(subject: str, data: bytes, headers: dict[str, str], seq: int, time: datetime | None) -> DeadLetter:
    try:
        body: Any = json.loads(data)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    stream_and_consumer = subject.removeprefix(ADVISORY_PREFIX).split(".", 1)
    deliveries = body.get("deliveries")
    return DeadLetter(
        subject=subject,
        data=data,
        error=f"server advisory: {deliveries if deliveries is not None else '?'} deliveries, never settled",
        original_subject="",
        original_seq=_int(body.get("stream_seq")),
        original_stream=str(body.get("stream") or stream_and_consumer[0]),
        consumer=str(body.get("consumer") or stream_and_consumer[-1]),
        seq=seq,
        time=time,
        headers=headers,
        advisory=True,
    )


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


async def read_dead_letters(js: JetStreamContext, subject: str = "dlq.>", limit: int | None = 1000) -> list[DeadLetter]:
    """The DLQ's entries on `subject`, oldest first, up to `limit` (None: all); nothing is consumed.

    The default reads the dead letters; `">"` adds the server's max-deliveries advisories.
    """
    # An ephemeral consumer that acknowledges nothing: reading leaves the stream as it was.
    config = ConsumerConfig(
        name=f"dlq-reader-{new_id()}",
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.ALL,
        filter_subject=None if subject == EVERYTHING else subject,
        mem_storage=True,
        inactive_threshold=30.0,  # the server cleans up after a reader that died
    )
    info = await js.add_consumer(DLQ_STREAM, config)
    out: list[DeadLetter] = []
    sub = await js.pull_subscribe_bind(info.name, stream=DLQ_STREAM)
    try:
        total = info.num_pending or 0
        wanted = total if limit is None else min(total, limit)
        while len(out) < wanted:
            try:
                msgs = await sub.fetch(min(256, wanted - len(out)), timeout=2)
            except nats.errors.TimeoutError:
                break  # entries counted at the start were removed since (a replay running beside us)
            for m in msgs:
                meta = m.metadata
                out.append(DeadLetter.stored(m.subject, m.data, m.headers, meta.sequence.stream, meta.timestamp))
            if msgs[-1].metadata.num_pending == 0:
                break
    finally:
        with contextlib.suppress(nats.errors.Error):
            await sub.unsubscribe()
            await js.delete_consumer(DLQ_STREAM, info.name)
    return out


async def get_dead_letter(js: JetStreamContext, seq: int) -> DeadLetter | None:
    """The DLQ entry at `seq`, or None when there is none (replayed, dropped, expired or never there)."""
    try:
        raw = await js.get_msg(DLQ_STREAM, seq)
    except nats.js.errors.NotFoundError:
        return None
    return DeadLetter.stored(raw.subject or "", raw.data or b"", raw.headers, raw.seq or seq, raw.time)


async def remove_dead_letter(js: JetStreamContext, seq: int) -> bool:
    """Delete the DLQ entry at `seq`; False when it was gone already (another replay removed it)."""
    try:
        return bool(await js.delete_msg(DLQ_STREAM, seq))
    except nats.js.errors.APIError as exc:
        if exc.err_code == NO_MESSAGE or isinstance(exc, nats.js.errors.NotFoundError):
            return False
        raise


async def original_message(js: JetStreamContext, letter: DeadLetter) -> RawStreamMsg | None:
    """The message `letter` stands for, from its own stream; None once that stream no longer holds it.

    For an advisory this is the only copy there is: its stream's limits (max age) decide how long it lasts.
    """
    if not letter.original_stream or letter.original_seq <= 0:
        return None
    try:
        return await js.get_msg(letter.original_stream, letter.original_seq)
    except nats.js.errors.NotFoundError:
        return None
