"""The supply request (domain/model.py): when to deliver, buy or give up, how much to buy, and that
it settles exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brigade_warehouse.domain.errors import RequestSettled
from brigade_warehouse.domain.events import SupplyDelivered, SupplyFailed
from brigade_warehouse.domain.model import RequestStatus, Step, SupplyRequest

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=30)
EARLIER = NOW - timedelta(seconds=1)


def request(amount: int, deadline: datetime = LATER) -> SupplyRequest:
    return SupplyRequest("r1", "o1", "lechuga", amount, deadline)


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
def test_next_step(amount: int, on_hand: int, deadline: datetime, decision: str) -> None:
    assert request(amount, deadline).next_step(on_hand, NOW) == Step(decision)


@pytest.mark.parametrize(("amount", "on_hand", "wanted"), [(10, 0, 10), (10, 4, 6), (10, 9, 1)])
def test_to_buy_asks_for_what_is_missing(amount: int, on_hand: int, wanted: int) -> None:
    assert request(amount).to_buy(on_hand) == wanted


def test_to_buy_never_asks_for_nothing() -> None:
    # The market refuses amount 0; were to_buy called with enough stock, it still asks a valid amount.
    assert request(5).to_buy(5) == 1
    assert request(5).to_buy(8) == 1


def test_the_loop_the_rules_drive_never_buys_more_than_the_shortfall() -> None:
    """Playing the buy loop with a stingy market: the total asked each round shrinks to zero exactly when
    the stock covers the request, and the request is then delivered."""
    answers = iter([0, 2, 0, 3, 1, 4])
    req, on_hand = request(10), 0
    asked = []
    while req.next_step(on_hand, NOW) is Step.BUY:
        wanted = req.to_buy(on_hand)
        asked.append(wanted)
        on_hand += min(next(answers), wanted)
    assert req.next_step(on_hand, NOW) is Step.DELIVER
    assert asked == [10, 10, 8, 8, 5, 4]
    assert on_hand == 10


def test_a_request_settles_once_and_records_its_outcome() -> None:
    delivered = request(3)
    delivered.deliver()
    assert delivered.status is RequestStatus.DELIVERED
    assert delivered.events == [SupplyDelivered("r1", "o1", "lechuga", 3)]
    with pytest.raises(RequestSettled):
        delivered.fail("too late")
    failed = request(3)
    failed.fail("market unavailable: timeout")
    assert (failed.status, failed.reason) == (RequestStatus.FAILED, "market unavailable: timeout")
    assert failed.events == [SupplyFailed("r1", "o1", "lechuga", 3, "market unavailable: timeout")]
    with pytest.raises(RequestSettled):
        failed.deliver()
