"""The simulated market (market.py): 0..max_units, never more than asked, reproducible, injectable failure."""

from __future__ import annotations

import pytest

from brigade_market.market import SUPPLIERS, Market, MarketClosed

NAMES = {name for _, name in SUPPLIERS}


def test_answers_are_between_zero_and_max_units_from_a_known_supplier() -> None:
    market = Market.create(seed=1)
    answers = [market.buy("lechuga", 1000) for _ in range(500)]
    amounts = [amount for amount, _ in answers]
    assert min(amounts) == 0 and max(amounts) == 10
    assert set(amounts) == set(range(11)), "every amount from 0 to 10 happens"
    assert {supplier for _, supplier in answers} == NAMES


@pytest.mark.parametrize("asked", [1, 2, 5, 9])
def test_never_more_than_asked(asked: int) -> None:
    market = Market.create(seed=2)
    amounts = [market.buy("pollo", asked)[0] for _ in range(300)]
    assert max(amounts) == asked and min(amounts) == 0


@pytest.mark.parametrize("max_units", [0, 1, 3, 50])
def test_max_units_caps_each_answer(max_units: int) -> None:
    market = Market.create(seed=3, max_units=max_units)
    amounts = [market.buy("queso", 1000)[0] for _ in range(300)]
    assert max(amounts) == max_units and min(amounts) == 0


def test_the_same_seed_gives_the_same_sequence() -> None:
    def run(seed: int) -> list[tuple[int, str]]:
        market = Market.create(seed=seed, failure_rate=0.2)
        out = []
        for i in range(200):
            try:
                out.append(market.buy("pasta", 1 + i % 12))
            except MarketClosed:
                out.append((-1, "closed"))
        return out

    assert run(42) == run(42)
    assert run(42) != run(43)


def test_failure_rate_one_always_fails_and_zero_never_does() -> None:
    closed = Market.create(seed=4, failure_rate=1.0)
    for _ in range(100):
        with pytest.raises(MarketClosed, match="jamon"):
            closed.buy("jamon", 3)
    open_ = Market.create(seed=4, failure_rate=0.0)
    assert all(open_.buy("jamon", 3)[0] >= 0 for _ in range(100))


def test_a_partial_failure_rate_fails_some_purchases() -> None:
    market = Market.create(seed=5, failure_rate=0.5)
    failures = 0
    for _ in range(400):
        try:
            market.buy("pan_canilla", 5)
        except MarketClosed:
            failures += 1
    assert 100 < failures < 300
