"""The turns of several supply commands at the stock in one transaction, against in-memory fakes: each
request as it would be alone, on the stock as the one before left it; a purchase is its buyer's to
deliver; one that must buy goes on at the market by itself. No servers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_warehouse.domain.events import PurchaseMade, SupplyDelivered
from brigade_warehouse.domain.model import RequestStatus, SupplyRequest
from brigade_warehouse.service.commands import SupplyIngredient
from brigade_warehouse.service.handlers import MustBuy, Purchase, Turn, take_turns
from brigade_warehouse.service.ports import Bought
from brigade_warehouse.service.warehouse import Warehouse
from services.warehouse.tests.unit.fakes import (
    FakeClock,
    FakeProgress,
    FakeRequests,
    FakeUnitOfWork,
    ScriptedMarket,
    WarehouseState,
    deps,
)


def _cmd(n: int, ingredient: str, amount: int) -> SupplyIngredient:
    return SupplyIngredient(f"{n:08d}-1111-4111-8111-111111111111", f"o{n}", ingredient, amount)


def _job(cmd: SupplyIngredient, bought: int | None = None) -> Turn:
    return Turn(
        cmd,
        MessageContext(f"corr-{cmd.order_id}", f"msg-{cmd.order_id}"),
        InboxEntry("warehouse-supply", cmd.order_id),
        first=bought is None,
        purchase=None if bought is None else Purchase(bought, Bought(bought, "Proveedor Uno")),
    )


async def test_one_transaction_takes_each_commands_first_step_on_the_stock_the_one_before_left() -> None:
    state, clock = WarehouseState(stock={"lechuga": 8, "pollo": 2}), FakeClock()
    cmds = [_cmd(1, "lechuga", 5), _cmd(2, "lechuga", 5), _cmd(3, "pollo", 2)]
    uow = FakeUnitOfWork(state)
    ended = await take_turns([_job(c) for c in cmds], uow, deps(ScriptedMarket([]), clock))
    assert ended[0] is RequestStatus.DELIVERED and ended[2] is RequestStatus.DELIVERED
    assert isinstance(ended[1], MustBuy) and ended[1].request.held == 3  # what the first left
    assert state.commits == 1 and state.stock == {"lechuga": 3, "pollo": 0} and state.reserved == {"lechuga": 3}
    assert sorted(state.requests) == sorted(c.request_id for c in cmds)  # all three registered
    assert state.inbox == {InboxEntry("warehouse-supply", "o1"), InboxEntry("warehouse-supply", "o3")}
    assert [e.request_id for e in state.of(SupplyDelivered)] == [cmds[0].request_id, cmds[2].request_id]  # type: ignore[attr-defined]
    assert {rid: ctx.correlation_id for rid, ctx in uow.contexts.items()} == {
        c.request_id: f"corr-{c.order_id}" for c in cmds
    }


async def test_a_settled_request_commanded_again_is_only_marked_processed() -> None:
    state, clock = WarehouseState(stock={"lechuga": 8}), FakeClock()
    cmd = _cmd(1, "lechuga", 5)
    await take_turns([_job(cmd)], FakeUnitOfWork(state), deps(ScriptedMarket([]), clock))
    ended = await take_turns([_job(cmd), _job(cmd)], FakeUnitOfWork(state), deps(ScriptedMarket([]), clock))
    assert ended == [RequestStatus.DELIVERED, RequestStatus.DELIVERED]
    assert state.stock == {"lechuga": 3} and len(state.of(SupplyDelivered)) == 1


async def test_a_purchase_is_stocked_and_delivered_to_its_buyer_before_the_others_first_steps() -> None:
    state, clock = WarehouseState(stock={"lechuga": 3}), FakeClock()
    buyer, newcomer = _cmd(1, "lechuga", 5), _cmd(2, "lechuga", 2)
    await take_turns([_job(buyer)], FakeUnitOfWork(state), deps(ScriptedMarket([]), clock))  # must buy 2
    # The newcomer's first step came first; the buyer's purchase of 2 is taken first all the same.
    ended = await take_turns(
        [_job(newcomer), _job(buyer, bought=2)], FakeUnitOfWork(state), deps(ScriptedMarket([]), clock)
    )
    assert ended[1] is RequestStatus.DELIVERED
    assert isinstance(ended[0], MustBuy) and ended[0].request.held == 0  # the buyer held the rest
    [made] = state.of(PurchaseMade)
    assert (made.request_id, made.received) == (buyer.request_id, 2)  # type: ignore[attr-defined]
    assert state.commits == 2 and state.stock == {"lechuga": 0} and state.reserved == {"lechuga": 0}


async def test_a_request_that_must_buy_holds_what_it_found_so_a_newcomer_does_not_take_it() -> None:
    state, clock = WarehouseState(stock={"lechuga": 3}), FakeClock()
    buyer, newcomer = _cmd(1, "lechuga", 5), _cmd(2, "lechuga", 2)
    [first] = await take_turns([_job(buyer)], FakeUnitOfWork(state), deps(ScriptedMarket([]), clock))
    assert isinstance(first, MustBuy) and first.request.to_buy() == 2  # it holds the 3 it found
    assert state.stock == {"lechuga": 3} and state.reserved == {"lechuga": 3}
    # The newcomer would be covered by the 3 on hand, but they are the buyer's: it must buy its own.
    [second] = await take_turns([_job(newcomer)], FakeUnitOfWork(state), deps(ScriptedMarket([]), clock))
    assert isinstance(second, MustBuy) and second.request.to_buy() == 2
    [third] = await take_turns([_job(buyer, bought=2)], FakeUnitOfWork(state), deps(ScriptedMarket([]), clock))
    assert third is RequestStatus.DELIVERED
    [delivered] = state.of(SupplyDelivered)
    assert (delivered.request_id, delivered.amount) == (buyer.request_id, 5)  # type: ignore[attr-defined]
    assert state.stock == {"lechuga": 0} and state.reserved == {"lechuga": 0}
    assert state.requests[buyer.request_id].held == 0


async def test_a_request_that_fails_frees_what_it_held_for_the_next() -> None:
    state, clock = WarehouseState(stock={"lechuga": 3}), FakeClock()
    buyer, newcomer = _cmd(1, "lechuga", 5), _cmd(2, "lechuga", 2)
    await take_turns([_job(buyer)], FakeUnitOfWork(state), deps(ScriptedMarket([]), clock))
    clock.advance(31)  # past the buyer's deadline, and the market sold it nothing
    ended = await take_turns(
        [_job(buyer, bought=0), _job(newcomer)], FakeUnitOfWork(state), deps(ScriptedMarket([]), clock)
    )
    assert ended == [RequestStatus.FAILED, RequestStatus.DELIVERED]
    assert state.stock == {"lechuga": 1} and state.reserved == {"lechuga": 0}
    assert [e.request_id for e in state.of(SupplyDelivered)] == [newcomer.request_id]  # type: ignore[attr-defined]


async def test_a_turn_for_a_request_never_registered_ends_in_nothing_and_changes_nothing() -> None:
    state, clock = WarehouseState(stock={"lechuga": 3}), FakeClock()
    ended = await take_turns(
        [_job(_cmd(1, "lechuga", 5), bought=2)], FakeUnitOfWork(state), deps(ScriptedMarket([]), clock)
    )
    assert ended == [None] and state.stock == {"lechuga": 3} and state.inbox == set()


def _warehouse(state: WarehouseState, market: ScriptedMarket, uow: type[FakeUnitOfWork] = FakeUnitOfWork) -> Warehouse:
    return Warehouse(
        uow=lambda context, inbox: uow(state),
        views=None,  # type: ignore[arg-type]
        deps=deps(market, FakeClock()),
        max_concurrent_stock_transactions=1,
    )


async def test_commands_at_once_go_together_and_the_one_that_must_buy_goes_on_at_the_market() -> None:
    state, market = WarehouseState(stock={"lechuga": 8}), ScriptedMarket([5])
    wh = _warehouse(state, market)
    cmds = [_cmd(1, "lechuga", 5), _cmd(2, "lechuga", 5)]
    ended = await asyncio.gather(
        *(wh.supply(c, context=MessageContext("c"), progress=FakeProgress(c.order_id)) for c in cmds)
    )
    assert ended == [RequestStatus.DELIVERED, RequestStatus.DELIVERED]
    assert market.asked == [2]  # 5 wanted, 3 left by the first
    # The group's one transaction, then the purchase's, which delivers: no second registration.
    assert state.commits == 2 and state.stock == {"lechuga": 0}


class BrokenGroups(FakeRequests):
    async def get_all(self, request_ids: Sequence[str]) -> dict[str, SupplyRequest]:
        if len(request_ids) > 1:
            raise ConnectionResetError("the connection broke")
        return await super().get_all(request_ids)


class BreaksGroups(FakeUnitOfWork):
    async def __aenter__(self) -> BreaksGroups:
        await super().__aenter__()
        self.requests = BrokenGroups(self._state)
        return self


async def test_when_the_groups_transaction_fails_each_command_runs_alone() -> None:
    state = WarehouseState(stock={"lechuga": 10})
    wh = _warehouse(state, ScriptedMarket([]), uow=BreaksGroups)
    cmds = [_cmd(1, "lechuga", 5), _cmd(2, "lechuga", 5)]
    ended = await asyncio.gather(
        *(wh.supply(c, context=MessageContext("c"), progress=FakeProgress(c.order_id)) for c in cmds)
    )
    assert ended == [RequestStatus.DELIVERED, RequestStatus.DELIVERED]
    assert state.commits == 2 and state.stock == {"lechuga": 0}  # one transaction each, after the group's failed
