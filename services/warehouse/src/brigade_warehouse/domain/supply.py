"""Supply rules. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Decision = Literal["deliver", "fail", "buy"]


@dataclass(frozen=True)
class SupplyState:
    amount: int
    on_hand: int
    deadline: datetime


def decide(state: SupplyState, now: datetime) -> Decision:
    """Deliver as soon as the stock covers the request; past the deadline, give up; else buy more."""
    if state.on_hand >= state.amount:
        return "deliver"
    if now >= state.deadline:
        return "fail"
    return "buy"


def to_buy(state: SupplyState) -> int:
    """Ask the market for what is still missing."""
    return max(state.amount - state.on_hand, 1)
