"""The market's request-reply endpoint (NATS service `market`, endpoint `market.buy`)."""

from __future__ import annotations

from pydantic import Field

from brigade_contracts._base import Message

BUY = "market.buy"


class BuyRequest(Message):
    ingredient: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    amount: int = Field(gt=0, le=1_000_000)


class BuyReply(Message):
    """0–10 units of what was asked, from one supplier."""

    ingredient: str
    amount: int = Field(ge=0)
    supplier: str
