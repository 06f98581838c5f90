"""The simulated market: each purchase returns 0..max_units of what was asked, from one supplier.

Pure apart from its random generator, which a seed makes reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SUPPLIERS: tuple[tuple[str, str], ...] = (
    ("mercado-central", "Mercado Central"),
    ("la-granja", "La Granja"),
    ("distribuidora-el-sol", "Distribuidora El Sol"),
    ("abasto-la-esquina", "Abasto La Esquina"),
)


class MarketClosed(Exception):
    """An injected failure: this purchase did not go through."""


@dataclass
class Market:
    rng: random.Random
    max_units: int = 10
    failure_rate: float = 0.0

    @classmethod
    def create(cls, seed: int | None, max_units: int = 10, failure_rate: float = 0.0) -> Market:
        return cls(random.Random(seed), max_units, failure_rate)  # noqa: S311 - a simulation, not crypto

    def buy(self, ingredient: str, amount: int) -> tuple[int, str]:
        """Units obtained (never more than asked) and the supplier's name."""
        if self.failure_rate and self.rng.random() < self.failure_rate:
            raise MarketClosed(f"no supplier answered for {ingredient}")
        supplier = self.rng.choice(SUPPLIERS)[1]
        return min(self.rng.randint(0, self.max_units), amount), supplier
