"""The warehouse's model: a supply request, settled exactly once, and the rules of its buy loop. Pure.

A request is open until the stock covers it (delivered) or its deadline passes first (failed). While
it is open and short, the warehouse buys what is still missing from the market, one purchase at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from brigade_warehouse.domain.errors import RequestSettled
from brigade_warehouse.domain.events import Event, SupplyDelivered, SupplyFailed


class RequestStatus(StrEnum):
    OPEN = "open"
    DELIVERED = "delivered"
    FAILED = "failed"


class Step(StrEnum):
    DELIVER = "deliver"
    FAIL = "fail"
    BUY = "buy"


@dataclass(eq=False)
class SupplyRequest:
    id: str
    order_id: str
    ingredient: str
    amount: int
    deadline: datetime
    status: RequestStatus = RequestStatus.OPEN
    reason: str | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    def next_step(self, on_hand: int, now: datetime) -> Step:
        """Deliver as soon as the stock covers the request (even past the deadline: it arrived in
        time); past the deadline, give up; else buy more."""
        if on_hand >= self.amount:
            return Step.DELIVER
        if now >= self.deadline:
            return Step.FAIL
        return Step.BUY

    def to_buy(self, on_hand: int) -> int:
        """What to ask the market for: what is still missing."""
        return max(self.amount - on_hand, 1)

    def deliver(self) -> None:
        self._settle(RequestStatus.DELIVERED)
        self.events.append(SupplyDelivered(self.id, self.order_id, self.ingredient, self.amount))

    def fail(self, reason: str) -> None:
        self._settle(RequestStatus.FAILED)
        self.reason = reason
        self.events.append(SupplyFailed(self.id, self.order_id, self.ingredient, self.amount, reason))

    def _settle(self, status: RequestStatus) -> None:
        if self.status is not RequestStatus.OPEN:
            raise RequestSettled(self.id, self.status)
        self.status = status
