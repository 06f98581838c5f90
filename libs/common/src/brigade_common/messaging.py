"""What use cases know of messaging, with no I/O: the context a unit of work sends its messages in,
the inbox entry of the message being handled, and a message to send at commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from brigade_common.envelope import Envelope, new_id


class AlreadyProcessed(Exception):
    """The inbox holds this message already: it had its effect; acknowledge it and do nothing."""


@dataclass(frozen=True)
class InboxEntry:
    """A message as the inbox knows it: the consumer that handles it and the envelope id."""

    consumer: str
    message_id: str


@dataclass(frozen=True)
class MessageContext:
    """What every message a unit of work sends carries of its cause: the correlation id of the
    request or message that started the work, and the id of the message that caused it (if any)."""

    correlation_id: str
    causation_id: str | None = None

    @classmethod
    def caused_by(cls, envelope: Envelope) -> MessageContext:
        return cls(envelope.correlation_id, envelope.id)


@dataclass(frozen=True)
class Outgoing:
    """A message to send when the transaction commits: its type (and subject unless `subject` says
    otherwise), its payload, extra headers (JetStream schedules), and when it happened when that is
    not when the envelope is made (a time the sender also stored, so both read the same)."""

    type: str
    payload: BaseModel
    subject: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    occurred_at: datetime | None = None

    def envelope(self, context: MessageContext) -> Envelope:
        """This message in an envelope that carries `context`."""
        when = {} if self.occurred_at is None else {"occurred_at": self.occurred_at}
        return Envelope(
            id=new_id(),
            type=self.type,
            correlation_id=context.correlation_id,
            causation_id=context.causation_id,
            data=self.payload.model_dump(mode="json"),
            **when,
        )
