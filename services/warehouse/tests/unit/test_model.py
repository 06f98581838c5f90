"""The supply request (domain/model.py): when to deliver, buy or give up, what it holds, how much to buy,
and that it settles exactly once."""

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
    ("amount", "free", "deadline", "decision"),
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
def test_next_step(amount: int, free: int, deadline: datetime, decision: str) -> None:
    assert request(amount, deadline).next_step(free, NOW) == Step(decision)


def test_what_it_holds_counts_towards_it() -> None:
    req = request(5)
    assert req.next_step(3, NOW) is Step.BUY
    assert req.hold(3) == 3 and (req.held, req.missing) == (3, 2)
    assert req.next_step(1, NOW) is Step.BUY  # 3 held and 1 free are not 5
    assert req.next_step(2, NOW) is Step.DELIVER


def test_it_holds_what_is_free_never_more_than_it_misses() -> None:
    req = request(10)
    assert req.hold(0) == 0 and req.held == 0
    assert req.hold(4) == 4
    assert req.hold(9) == 5  # one short of its amount: were 6 free, it would be delivered, not held
    assert req.held == 9


@pytest.mark.parametrize(("amount", "held", "wanted"), [(10, 0, 10), (10, 4, 6), (10, 9, 1)])
def test_to_buy_asks_for_what_is_missing(amount: int, held: int, wanted: int) -> None:
    req = request(amount)
    req.hold(held)
    assert req.to_buy() == wanted


def test_the_loop_the_rules_drive_never_buys_more_than_the_shortfall() -> None:
    """Playing the buy loop with a stingy market, each purchase held as it comes: the total asked each
    round shrinks to zero exactly when the request is covered, and it is then delivered."""
    answers = iter([0, 2, 0, 3, 1, 4])
    req, free = request(10), 0
    asked = []
    while req.next_step(free, NOW) is Step.BUY:
        free -= req.hold(free)
        wanted = req.to_buy()
        asked.append(wanted)
        free += min(next(answers), wanted)
    assert req.next_step(free, NOW) is Step.DELIVER
    assert asked == [10, 10, 8, 8, 5, 4]
    assert req.held + free == 10


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


@pytest.mark.parametrize("settle", [lambda r: r.deliver(), lambda r: r.fail("too late")])
def test_a_settled_request_holds_nothing(settle: object) -> None:
    req = request(5)
    req.hold(3)
    settle(req)  # type: ignore[operator]
    assert req.held == 0
