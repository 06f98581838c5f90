"""The warehouse's model: a supply request, settled exactly once, and the rules of its buy loop. Pure.

A request is open until the stock covers it (delivered) or its deadline passes first (failed). While
it is open and short, it holds what it found free on hand (no request coming after takes that), and the
warehouse buys what is still missing from the market, one purchase at a time. Settled, it holds nothing.
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
    held: int = 0  # units of the stock kept for it while it buys the rest
    events: list[Event] = field(default_factory=list, repr=False)

    @property
    def missing(self) -> int:
        """What it needs beyond what it holds."""
        return self.amount - self.held

    def next_step(self, free: int, now: datetime) -> Step:
        """Deliver as soon as what it holds and the stock's free units cover the request (even past the
        deadline: it arrived in time); past the deadline, give up; else buy more."""
        if free >= self.missing:
            return Step.DELIVER
        if now >= self.deadline:
            return Step.FAIL
        return Step.BUY

    def hold(self, free: int) -> int:
        """Keep what is free of the stock, up to what is missing, while it buys the rest: how many it took."""
        taken = max(min(free, self.missing - 1), 0)  # covered, it would be delivered instead
        self.held += taken
        return taken

    def to_buy(self) -> int:
        """What to ask the market for: what is still missing (never nothing: it holds less than its amount)."""
        return self.missing

    def deliver(self) -> None:
        """Settled with its whole amount: what it held and the rest from the free stock."""
        self._settle(RequestStatus.DELIVERED)
        self.events.append(SupplyDelivered(self.id, self.order_id, self.ingredient, self.amount))

    def fail(self, reason: str) -> None:
        """Settled without anything: what it held is free again."""
        self._settle(RequestStatus.FAILED)
        self.reason = reason
        self.events.append(SupplyFailed(self.id, self.order_id, self.ingredient, self.amount, reason))

    def _settle(self, status: RequestStatus) -> None:
        if self.status is not RequestStatus.OPEN:
            raise RequestSettled(self.id, self.status)
        self.status = status
        self.held = 0
