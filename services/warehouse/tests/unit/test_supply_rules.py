"""The warehouse's supply rules (domain/supply.py): when to deliver, buy or give up, and how much to buy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brigade_warehouse.domain.supply import SupplyState, decide, to_buy

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=30)
EARLIER = NOW - timedelta(seconds=1)


@pytest.mark.parametrize(
    ("amount", "on_hand", "deadline", "decision"),
    [
        (3, 3, LATER, "deliver"),  # exactly enough
        (3, 10, LATER, "deliver"),
        (3, 2, LATER, "buy"),
        (3, 0, LATER, "buy"),
        (3, 2, NOW, "fail"),  # the deadline itself is too late
        (3, 2, EARLIER, "fail"),
        (3, 3, EARLIER, "deliver"),  # stock that arrived in time is delivered, even if late
    ],
)
def test_decide(amount: int, on_hand: int, deadline: datetime, decision: str) -> None:
    assert decide(SupplyState(amount, on_hand, deadline), NOW) == decision


@pytest.mark.parametrize(("amount", "on_hand", "wanted"), [(10, 0, 10), (10, 4, 6), (10, 9, 1)])
def test_to_buy_asks_for_what_is_missing(amount: int, on_hand: int, wanted: int) -> None:
    assert to_buy(SupplyState(amount, on_hand, LATER)) == wanted


def test_to_buy_never_asks_for_nothing() -> None:
    # The market refuses amount 0; were to_buy called with enough stock, it still asks a valid amount.
    assert to_buy(SupplyState(5, 5, LATER)) == 1
    assert to_buy(SupplyState(5, 8, LATER)) == 1


def test_the_loop_the_rules_drive_never_buys_more_than_the_shortfall() -> None:
    """Playing the buy loop with a stingy market: the total asked each round shrinks to zero exactly when
    the stock covers the request, and the request is then delivered."""
    answers = iter([0, 2, 0, 3, 1, 4])
    state = SupplyState(10, 0, LATER)
    asked = []
    while decide(state, NOW) == "buy":
        wanted = to_buy(state)
        asked.append(wanted)
        state = SupplyState(state.amount, state.on_hand + min(next(answers), wanted), state.deadline)
    assert decide(state, NOW) == "deliver"
    assert asked == [10, 10, 8, 8, 5, 4]
    assert state.on_hand == 10
