"""Replaying the DLQ: each entry back to its original subject, in its original envelope, exactly once.

What a replay sends:
- **The message's bytes unchanged**, so the same envelope and the same envelope `id`. Every consumer
  of the subject receives it again, not only the one that failed, and each one's inbox drops it if
  that consumer processed it already: a replay has an effect only where the message never had one.
- **`Nats-Msg-Id: replay:<original stream>:<original sequence>`, not the envelope id.** The original
  was published with the envelope id as its `Nats-Msg-Id`, and a poison message is dead-lettered
  moments after it was published: a replay inside the stream's duplicate window (2 minutes) carrying
  that id would be acknowledged as a duplicate and silently dropped. The message's place in its
  stream names one failed delivery history instead. Two replays of the same entry (run twice in a
  row before the first removed it, two operators at once, or a dead letter and the server's advisory
  for the same message) carry the same id: within the window the stream stores one and acknowledges
  the other as a duplicate (`Outcome.DUPLICATE`), so nothing is delivered twice; after it, the second
  one reaches the consumer with the same envelope id and its inbox drops it. A replay that fails again
  is dead-lettered from its new place in the stream, so replaying that new entry sends a new id.
- **`Nats-Expected-Stream: <original stream>`**: the replay goes back into the stream it came from, or
  it fails; `Brigade-Replay-Of: DLQ:<seq>` and the envelope's `Correlation-Id` leave a trail.

Then: wait for the stream's ack, and only then delete the entry from the DLQ, so `list` shows what is
left. A crash between the two leaves the entry in place, and replaying it again is the case above
(a duplicate, or the inbox): never a loss, never a second effect. Every replay is logged
(`dlq_replayed`: consumer, original subject, envelope id, DLQ sequence).

A max-deliveries advisory carries no payload: the original is fetched from its stream by sequence.
When that stream no longer holds it (its limits removed it: a context stream keeps 7 days, the DLQ
30), there is nothing to send: the entry stays, reported `Outcome.GONE`, until an operator who has
dealt with it by hand drops it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import nats.errors
import nats.js.errors
import pydantic
from nats.js import JetStreamContext

from brigade_common.dlq.letters import DLQ_STREAM, DeadLetter, original_message, remove_dead_letter
from brigade_common.envelope import CORRELATION_ID, MSG_ID, Envelope
from brigade_common.logging import get_logger

log = get_logger(__name__)

REPLAY_OF = "Brigade-Replay-Of"
EXPECTED_STREAM_MISMATCH = 10060  # JetStream: `Nats-Expected-Stream` names another stream


class Outcome(enum.StrEnum):
    """What became of one entry."""

    REPLAYED = "replayed"  # stored in its stream again; the entry is removed
    DUPLICATE = "duplicate"  # replayed already within the duplicate window: stored once; the entry is removed
    GONE = "gone"  # an advisory whose original its stream no longer holds: the entry stays
    FAILED = "failed"  # not stored (no stream, no ack): the entry stays
    PLANNED = "would replay"  # a dry run


@dataclass(frozen=True)
class Replay:
    """One entry's replay (or, in a dry run, what it would be): where it went and why."""

    letter: DeadLetter
    outcome: Outcome
    subject: str = ""
    envelope_id: str | None = None
    stream_seq: int | None = None  # the replay's place in the original stream
    detail: str = ""

    @property
    def done(self) -> bool:
        """The message is in its stream again (now or from an earlier replay)."""
        return self.outcome in (Outcome.REPLAYED, Outcome.DUPLICATE)


def replay_msg_id(letter: DeadLetter) -> str:
    """The replay's `Nats-Msg-Id`: the original message's place in its stream (module docstring)."""
    if letter.original_stream and letter.original_seq > 0:
        return f"replay:{letter.original_stream}:{letter.original_seq}"
    return f"replay:{DLQ_STREAM}:{letter.seq}"  # an entry that does not say where it came from


def select(letters: Iterable[DeadLetter], *, consumer: str | None = None, error: str | None = None) -> list[DeadLetter]:
    """The entries of `consumer` (its exact name) whose error contains `error` (any case), oldest first."""
    needle = error.casefold() if error else None
    chosen = [
        letter
        for letter in letters
        if (consumer is None or letter.consumer == consumer) and (needle is None or needle in letter.error.casefold())
    ]
    return sorted(chosen, key=lambda letter: letter.seq)


async def replay(js: JetStreamContext, letter: DeadLetter, *, dry_run: bool = False) -> Replay:
    """Publish `letter`'s message to its original subject, wait for the ack, then remove the entry.

    Nothing is removed unless the stream acknowledged the message; `dry_run` only says what would
    be sent (and whether an advisory's original still exists).
    """
    if letter.advisory:
        original = await original_message(js, letter)
        if original is None:
            return Replay(
                letter,
                Outcome.GONE,
                detail=f"stream {letter.original_stream} no longer holds seq {letter.original_seq}: nothing to send",
            )
        subject, data = original.subject or "", original.data or b""
    else:
        subject, data = letter.original_subject, letter.data
    envelope = _envelope(data)
    envelope_id = envelope.id if envelope else None
    if dry_run:
        return Replay(letter, Outcome.PLANNED, subject, envelope_id)
    if not subject:
        return Replay(letter, Outcome.FAILED, detail="the entry does not say which subject it came from")
    headers = {MSG_ID: replay_msg_id(letter), REPLAY_OF: f"{DLQ_STREAM}:{letter.seq}"}
    if envelope is not None:
        headers[CORRELATION_ID] = envelope.correlation_id
    try:
        ack = await js.publish(subject, data, headers=headers, stream=letter.original_stream or None)
    except nats.errors.Error as exc:
        log.warning("dlq_replay_failed", consumer=letter.consumer, dlq_seq=letter.seq, subject=subject, error=repr(exc))
        return Replay(letter, Outcome.FAILED, subject, envelope_id, detail=_why(exc, subject, letter))
    log.info(
        "dlq_replayed",
        consumer=letter.consumer,
        original_subject=subject,
        envelope_id=envelope_id,
        dlq_seq=letter.seq,
        stream=ack.stream,
        stream_seq=ack.seq,
        duplicate=bool(ack.duplicate),
    )
    outcome = Outcome.DUPLICATE if ack.duplicate else Outcome.REPLAYED
    removed = await _removed(js, letter)
    detail = "" if removed else "stored, but the entry could not be removed: replaying it again is harmless"
    return Replay(letter, outcome, subject, envelope_id, ack.seq, detail)


async def _removed(js: JetStreamContext, letter: DeadLetter) -> bool:
    try:
        await remove_dead_letter(js, letter.seq)  # False: a concurrent replay removed it first
    except nats.errors.Error as exc:
        log.warning("dlq_remove_failed", dlq_seq=letter.seq, error=repr(exc))
        return False
    return True


def _envelope(data: bytes) -> Envelope | None:
    try:
        return Envelope.from_bytes(data)
    except pydantic.ValidationError:
        return None


def _why(exc: nats.errors.Error, subject: str, letter: DeadLetter) -> str:
    if isinstance(exc, nats.js.errors.NoStreamResponseError):
        return f"no stream takes {subject!r} any more"
    if isinstance(exc, nats.js.errors.APIError) and exc.err_code == EXPECTED_STREAM_MISMATCH:
        return f"{subject!r} no longer goes to stream {letter.original_stream}"
    if isinstance(exc, nats.errors.TimeoutError):
        return "the stream did not acknowledge in time"
    return f"publish failed: {exc!r}"
