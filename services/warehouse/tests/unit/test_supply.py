"""The supply use case against in-memory fakes: deliver from stock, buy until enough, give up at the
deadline, resume after a crash, and never settle a request twice. No servers."""

from __future__ import annotations

import pytest

from brigade_contracts.warehouse import StockReason
from brigade_warehouse.domain.events import PurchaseMade, StockMoved, SupplyDelivered, SupplyFailed
from brigade_warehouse.domain.model import RequestStatus
from brigade_warehouse.service.commands import SupplyIngredient
from brigade_warehouse.service.handlers import MustBuy, Turn, supply_ingredient, take_turn
from brigade_warehouse.service.ports import Bought
from services.warehouse.tests.unit.fakes import (
    CTX,
    FakeClock,
    FakeProgress,
    FakeUnitOfWork,
    ScriptedMarket,
    WarehouseState,
    deps,
)

CMD = SupplyIngredient("11111111-1111-4111-8111-111111111111", "o1", "lechuga", 5)


async def run(
    state: WarehouseState,
    market: ScriptedMarket,
    clock: FakeClock,
    progress: FakeProgress | None = None,
    cmd: SupplyIngredient = CMD,
    deadline_s: float = 30.0,
) -> RequestStatus:
    d = deps(market, clock, deadline_s=deadline_s)

    async def alone(turn: Turn) -> RequestStatus | MustBuy:
        return await take_turn(turn, FakeUnitOfWork(state), d)

    return await supply_ingredient(cmd, CTX, progress or FakeProgress(), d, alone)


async def test_enough_stock_is_delivered_without_the_market() -> None:
    state, clock, market = WarehouseState(stock={"lechuga": 8}), FakeClock(), ScriptedMarket([])
    progress = FakeProgress()
    assert await run(state, market, clock, progress) is RequestStatus.DELIVERED
    assert market.asked == [] and state.stock["lechuga"] == 3
    assert state.of(SupplyDelivered) == [SupplyDelivered(CMD.request_id, "o1", "lechuga", 5)]
    [debit] = state.movements
    assert (debit.delta, debit.reason, debit.balance) == (-5, StockReason.SUPPLY, 3)
    assert progress.inbox in state.inbox
    assert state.commits == 1  # registered, debited and delivered in one transaction


async def test_a_request_that_must_buy_is_registered_before_the_market_is_called() -> None:
    state, clock = WarehouseState(stock={"lechuga": 0}), FakeClock()

    class Watching(ScriptedMarket):
        async def buy(self, ingredient: str, amount: int, timeout_s: float) -> Bought:
            assert CMD.request_id in state.requests  # a crash during the call loses no request
            return await super().buy(ingredient, amount, timeout_s)

    assert await run(state, Watching([5]), clock) is RequestStatus.DELIVERED


async def test_a_short_stock_buys_what_is_missing_until_it_is_enough() -> None:
    state, clock = WarehouseState(stock={"lechuga": 2}), FakeClock()
    market = ScriptedMarket([0, 1, 9])
    progress = FakeProgress()
    assert await run(state, market, clock, progress) is RequestStatus.DELIVERED
    assert market.asked == [3, 3, 2]  # never more than the shortfall
    purchases = [e for e in state.of(PurchaseMade) if isinstance(e, PurchaseMade)]
    assert [p.received for p in purchases] == [0, 1, 2]
    bought = [m.delta for m in state.movements if m.reason is StockReason.PURCHASE]
    assert bought == [1, 2]  # a purchase of nothing moves nothing
    assert state.stock["lechuga"] == 0
    assert progress.kept_alive == 3
    assert state.commits == 4  # the registration, then each purchase stocked and the request looked at again


async def test_the_deadline_fails_the_request_with_the_last_market_error() -> None:
    state, clock = WarehouseState(stock={"lechuga": 1}), FakeClock()
    market = ScriptedMarket([None] * 100, clock, takes_s=2.0)
    assert await run(state, market, clock, deadline_s=5.0) is RequestStatus.FAILED
    [failed] = [e for e in state.of(SupplyFailed) if isinstance(e, SupplyFailed)]
    assert failed.reason.startswith("market unavailable: market.buy did not answer")
    assert state.stock["lechuga"] == 1  # nothing left the warehouse
    assert not state.of(SupplyDelivered)


class Crash(Exception):
    """The process died mid-loop (the runner sees an exception; JetStream redelivers later)."""


class CrashingMarket(ScriptedMarket):
    async def buy(self, ingredient: str, amount: int, timeout_s: float) -> Bought:
        if self.asked:
            raise Crash
        return await super().buy(ingredient, amount, timeout_s)


async def test_a_redelivered_command_resumes_where_the_crash_left_it() -> None:
    state, clock = WarehouseState(stock={"lechuga": 1}), FakeClock()
    with pytest.raises(Crash):
        await run(state, CrashingMarket([2]), clock)
    assert state.stock["lechuga"] == 3  # the purchase made before the crash is kept
    again = ScriptedMarket([10])
    assert await run(state, again, clock) is RequestStatus.DELIVERED
    assert again.asked == [2]  # only what was still missing
    assert state.stock["lechuga"] == 0 and len(state.of(SupplyDelivered)) == 1


async def test_a_settled_request_is_only_acknowledged() -> None:
    state, clock = WarehouseState(stock={"lechuga": 1}), FakeClock()
    assert await run(state, ScriptedMarket([None], clock, takes_s=1.0), clock, deadline_s=0.5) is RequestStatus.FAILED
    again, progress = ScriptedMarket([]), FakeProgress("msg-2")
    assert await run(state, again, clock, progress) is RequestStatus.FAILED
    assert again.asked == [] and len(state.of(SupplyFailed)) == 1
    assert progress.inbox in state.inbox


async def test_a_repeat_of_a_delivered_request_delivers_nothing_twice() -> None:
    state, clock = WarehouseState(stock={"lechuga": 10}), FakeClock()
    await run(state, ScriptedMarket([]), clock)
    assert await run(state, ScriptedMarket([]), clock, FakeProgress("msg-2")) is RequestStatus.DELIVERED
    assert state.stock["lechuga"] == 5 and len(state.of(SupplyDelivered)) == 1
    assert len([m for m in state.movements if m.reason is StockReason.SUPPLY]) == 1
    assert all(isinstance(e, StockMoved | SupplyDelivered) for e in state.published)
