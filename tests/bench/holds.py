"""How long an order held its dish's pantry rows, from the kitchen's /metrics (`kitchen_pantry_hold_seconds`).

Orders of one dish queue on its pantry rows, so 1 / the mean hold is about as many orders per second
as the dish can take, whatever the CPU: a step's figure beside that ceiling says whether the lock
stops it. About: the kitchen times the hold from reading the reply that took the lock to reading the
commit's, not as PostgreSQL holds it. Read before and after a step (its warm-up included, as its CPU is).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tests.bench.httpclient import metrics_page

_SERIES = re.compile(r"^kitchen_pantry_hold_seconds_(sum|count) ([0-9.e+-]+)$", re.MULTILINE)


@dataclass(frozen=True)
class Holds:
    """The histogram's running totals: seconds held, and orders that held rows."""

    seconds: float
    orders: int

    def __sub__(self, earlier: Holds) -> Holds:
        return Holds(self.seconds - earlier.seconds, self.orders - earlier.orders)

    @property
    def mean_ms(self) -> float:
        return self.seconds / self.orders * 1000 if self.orders else 0.0

    @property
    def ceiling(self) -> float:
        """About the orders/s one dish can take at this hold."""
        return self.orders / self.seconds if self.seconds else 0.0


def parse(metrics: str) -> Holds:
    """The totals in a /metrics page (zero when the kitchen has not held rows yet)."""
    found = {name: float(value) for name, value in _SERIES.findall(metrics)}
    return Holds(found.get("sum", 0.0), int(found.get("count", 0)))


async def read(port: int) -> Holds:
    return parse(await metrics_page(port))


def line(by_clients: Mapping[int, Holds]) -> str:
    """The report's sentence under a scenario's table."""
    figures = ", ".join(
        f"{h.mean_ms:.2f} ms at {c} client{'s' if c > 1 else ''} (about {h.ceiling:,.0f} orders/s)"
        for c, h in sorted(by_clients.items())
        if h.orders
    )
    return (
        "The dish's pantry rows were held per order, on average (the kitchen's `kitchen_pantry_hold_seconds`, "
        f"warm-up included, timed in the kitchen from the reply that took the lock to the commit's): {figures}. "
        "Orders of one dish wait on those rows for each other, so one over the hold is about as many orders "
        "per second as the dish can take."
    )
