from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """Base of every event and command payload: unknown fields are refused, values are frozen."""

    model_config = ConfigDict(frozen=True, extra="forbid")
