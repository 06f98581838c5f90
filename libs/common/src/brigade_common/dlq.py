"""The dead-letter stream: messages that cannot be processed, kept with their error for a human."""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.js import JetStreamContext

ERROR = "Brigade-Error"
ORIGINAL_SUBJECT = "Brigade-Original-Subject"
ORIGINAL_STREAM = "Brigade-Original-Stream"
ORIGINAL_SEQ = "Brigade-Original-Seq"


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
    subject: str
    data: bytes
    error: str
    original_subject: str
    original_seq: int


async def read_dead_letters(js: JetStreamContext, subject: str = "dlq.>", limit: int = 1000) -> list[DeadLetter]:
    """Every dead letter on `subject`, oldest first (an ephemeral ordered read; nothing is consumed)."""
    sub = await js.subscribe(subject, stream="DLQ", ordered_consumer=True)
    out: list[DeadLetter] = []
    try:
        info = await js.stream_info("DLQ", subjects_filter=subject)
        total = sum((info.state.subjects or {}).values()) if info.state.subjects else 0
        while len(out) < min(total, limit):
            m = await sub.next_msg(timeout=5)
            h = m.headers or {}
            out.append(
                DeadLetter(
                    subject=m.subject,
                    data=m.data,
                    error=h.get(ERROR, ""),
                    original_subject=h.get(ORIGINAL_SUBJECT, ""),
                    original_seq=int(h.get(ORIGINAL_SEQ, "0")),
                )
            )
    finally:
        await sub.unsubscribe()
    return out
