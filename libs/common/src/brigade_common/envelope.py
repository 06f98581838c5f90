"""The message envelope every event and command travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Header names used on every message.
MSG_ID = "Nats-Msg-Id"
CORRELATION_ID = "Correlation-Id"
TRACEPARENT = "traceparent"


def new_id() -> str:
    """A new message id (UUID4, text)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """`id` doubles as `Nats-Msg-Id`, so a re-sent envelope is recognised as the same message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id, min_length=1, max_length=128)
    type: str = Field(min_length=1, max_length=200)
    occurred_at: datetime = Field(default_factory=utcnow)
    correlation_id: str = Field(min_length=1, max_length=128)
    causation_id: str | None = Field(default=None, max_length=128)
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        type_: str,
        data: BaseModel | dict[str, Any],
        *,
        correlation_id: str | None = None,
        causation: Envelope | None = None,
        id_: str | None = None,
    ) -> Envelope:
        """Build an envelope; a caused message inherits the cause's correlation id."""
        payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
        corr = correlation_id or (causation.correlation_id if causation else None)
        msg_id = id_ or new_id()
        return cls(
            id=msg_id,
            type=type_,
            correlation_id=corr or msg_id,
            causation_id=causation.id if causation else None,
            data=payload,
        )

    def headers(self, traceparent: str | None = None) -> dict[str, str]:
        """The NATS headers for this envelope (a fresh dict: nats-py mutates what it is given)."""
        h = {MSG_ID: self.id, CORRELATION_ID: self.correlation_id}
        if traceparent:
            h[TRACEPARENT] = traceparent
        return h

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)
