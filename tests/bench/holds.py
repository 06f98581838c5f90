"""How long a new order's transaction held its dish's pantry rows, and how many orders it placed,
from the kitchen's /metrics (`kitchen_pantry_hold_seconds`, `kitchen_orders_placed_together`).

Orders of one dish queue on its pantry rows, so the orders a transaction places over the time it
holds them is about as many orders per second as the dish can take, whatever the CPU: a step's
figure beside that ceiling says whether the lock stops it. The orders that come while one
transaction runs go together in the next (admission control), so under load a transaction places
several. About: the kitchen times the hold from reading the reply that took the lock to reading the
commit's, not as PostgreSQL holds it. Read before and after a step (its warm-up included, as its CPU is).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tests.bench.httpclient import metrics_page

_SERIES = re.compile(r"^kitchen_pantry_hold_seconds_(sum|count) ([0-9.e+-]+)$", re.MULTILINE)
_PLACED = re.compile(r"^kitchen_orders_placed_together_(sum|count) ([0-9.e+-]+)$", re.MULTILINE)


@dataclass(frozen=True)
class Holds:
    """The histograms' running totals: seconds held, transactions that held rows, orders they placed
    (a transaction that held nothing placed its orders too: `orders` counts every placing transaction's)."""

    seconds: float
    holds: int
    orders: int = 0
    placing: int = 0  # transactions that placed orders, whether they held rows or not

    def __add__(self, other: Holds) -> Holds:
        return Holds(
            self.seconds + other.seconds,
            self.holds + other.holds,
            self.orders + other.orders,
            self.placing + other.placing,
        )

    def __sub__(self, earlier: Holds) -> Holds:
        return Holds(
            self.seconds - earlier.seconds,
            self.holds - earlier.holds,
            self.orders - earlier.orders,
            self.placing - earlier.placing,
        )

    @property
    def mean_ms(self) -> float:
        """The mean hold of a transaction."""
        return self.seconds / self.holds * 1000 if self.holds else 0.0

    @property
    def per_transaction(self) -> float:
        """Orders a placing transaction placed, on average."""
        return self.orders / self.placing if self.placing else 1.0

    @property
    def ceiling(self) -> float:
        """About the orders/s one dish can take at this hold and this many orders per transaction."""
        return self.per_transaction * 1000 / self.mean_ms if self.holds and self.seconds else 0.0


def parse(metrics: str) -> Holds:
    """The totals in a /metrics page (zero when the kitchen has not held rows yet)."""
    held = {name: float(value) for name, value in _SERIES.findall(metrics)}
    placed = {name: float(value) for name, value in _PLACED.findall(metrics)}
    return Holds(
        held.get("sum", 0.0), int(held.get("count", 0)), int(placed.get("sum", 0)), int(placed.get("count", 0))
    )


async def read(*ports: int) -> Holds:
    """The totals of the kitchen processes on `ports` (its replicas' own ports), together."""
    total = Holds(0.0, 0)
    for port in ports:
        total += parse(await metrics_page(port))
    return total


def figures(by_clients: Mapping[int, Holds]) -> str:
    """`3.43 ms for 3.2 orders at 16 clients (about 935 orders/s), …`: the mean hold, the orders a
    transaction placed and the ceiling they make, at each number of clients."""
    return ", ".join(
        f"{h.mean_ms:.2f} ms for {h.per_transaction:.1f} order{'s' if h.per_transaction >= 1.05 else ''} "
        f"at {c} client{'s' if c > 1 else ''} (about {h.ceiling:,.0f} orders/s)"
        for c, h in sorted(by_clients.items())
        if h.holds
    )


def line(by_clients: Mapping[int, Holds]) -> str:
    """The report's sentence under a scenario's table."""
    return (
        "A new order's transaction held the dish's pantry rows, on average (the kitchen's "
        "`kitchen_pantry_hold_seconds`, warm-up included, timed in the kitchen from the reply that took the lock "
        "to the commit's), for the orders it placed on average (`kitchen_orders_placed_together`: the orders that "
        f"came while one ran go together in the next): {figures(by_clients)}. Orders of one dish wait on those rows "
        "for each other, so the orders of a transaction over its hold is about as many orders per second as the "
        "dish can take."
    )
