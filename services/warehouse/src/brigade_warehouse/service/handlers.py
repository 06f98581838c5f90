"""Supplying the kitchen: allocate from stock, buy from the market until there is enough, deliver.

A supply command's loop is a row of turns at the stock, each a unit of work (`Turn`, `take_turns`):
- its first turn registers the request and delivers it when the stock covers it (one transaction);
- after each market call, a turn records the purchase and stocks what it brought (so a crash
  mid-loop loses nothing), then delivers, fails past the deadline, or says what is still missing.
A request that must buy holds what it found free on hand (it still needs to buy only the rest, and no
request coming after takes that); delivered, it takes what it held with the rest; failed, it frees it.
A turn that settles the request also marks the command processed. A redelivered command resumes the
loop where it stopped; a command whose request is settled is only marked processed.

`take_turns` takes the turns of several commands in one transaction (those that came while another
turn ran: `Warehouse.supply`), each as it would be alone; the market calls between turns are each
command's own. Locks are taken requests first (several in one statement, in id order), then stock
rows (in theirs).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_contracts.warehouse import StockReason
from brigade_warehouse.domain.errors import MarketUnavailable, UnknownSupplyRequest
from brigade_warehouse.domain.model import RequestStatus, Step, SupplyRequest
from brigade_warehouse.service.commands import SupplyIngredient
from brigade_warehouse.service.ports import Bought, Clock, Market, Pause, Progress, WarehouseUnitOfWork

# Why a request fails at its deadline when no market call failed.
NEVER_ENOUGH = "the market never had enough"


@dataclass(frozen=True)
class Deps:
    clock: Clock
    market: Market
    pause: Pause  # between failed market calls
    deadline_s: float  # a request not covered by then fails
    market_timeout_s: float  # one market call may take at most this long


@dataclass(frozen=True)
class Purchase:
    """What a market call was asked for and what it sold."""

    wanted: int
    bought: Bought


@dataclass(frozen=True)
class Turn:
    """One unit of work of a supply command's loop, in its command's context."""

    cmd: SupplyIngredient
    context: MessageContext
    inbox: InboxEntry
    first: bool = True  # register the request first
    purchase: Purchase | None = None  # made since the last turn: recorded and stocked first
    last_error: str = NEVER_ENOUGH  # why the request fails when its deadline has passed


@dataclass(frozen=True)
class MustBuy:
    """A request registered (committed) that the stock did not cover, holding what it found free."""

    request: SupplyRequest


TakeTurn = Callable[[Turn], Awaitable[RequestStatus | MustBuy]]


async def take_turns(
    turns: Sequence[Turn], uow: WarehouseUnitOfWork, deps: Deps
) -> list[RequestStatus | MustBuy | None]:
    """Several commands' turns in one transaction, each as it would be alone, on the stock as the turn
    before left it (those that bring a purchase first: what a command bought is its own to deliver or
    hold; a request that must buy holds what it found free, so no turn after takes it).
    For each: how its request ended (its command marked processed); `MustBuy` to call the market again;
    None when there is no such request (alone, it is `UnknownSupplyRequest`)."""
    deadline = deps.clock() + timedelta(seconds=deps.deadline_s)
    ended: list[RequestStatus | MustBuy | None] = [None] * len(turns)
    async with uow:
        for t in turns:
            if t.first:
                uow.requests.open(
                    SupplyRequest(t.cmd.request_id, t.cmd.order_id, t.cmd.ingredient, t.cmd.amount, deadline)
                )
        requests = await uow.requests.get_all([t.cmd.request_id for t in turns])
        free = await uow.stock.lock_all(
            r.ingredient
            for t in turns
            if (r := requests.get(t.cmd.request_id))
            and (r.status is RequestStatus.OPEN or (t.purchase is not None and t.purchase.bought.amount))
        )
        for i in sorted(range(len(turns)), key=lambda i: turns[i].purchase is None):
            t = turns[i]
            req = requests.get(t.cmd.request_id)
            if req is None:
                continue
            uow.speak_for(req.id, t.context)
            if t.purchase is not None:
                bought = t.purchase.bought
                uow.purchases.record(req.id, req.ingredient, t.purchase.wanted, bought.amount, bought.supplier)
                if bought.amount:
                    uow.stock.move(req.ingredient, bought.amount, StockReason.PURCHASE, req.id)
                    free[req.ingredient] += bought.amount
            if req.status is RequestStatus.OPEN:
                step = req.next_step(free[req.ingredient], deps.clock())
                if step is Step.BUY:
                    if held := req.hold(free[req.ingredient]):
                        uow.stock.hold(req.ingredient, held)
                        free[req.ingredient] -= held
                    ended[i] = MustBuy(req)
                    continue
                if step is Step.DELIVER:
                    free[req.ingredient] -= req.missing
                    uow.stock.move(req.ingredient, -req.amount, StockReason.SUPPLY, req.id, released=req.held)
                    req.deliver()
                else:
                    if req.held:
                        uow.stock.hold(req.ingredient, -req.held)
                        free[req.ingredient] += req.held
                    req.fail(t.last_error)
            uow.mark_processed(t.inbox)
            ended[i] = req.status
        await uow.commit()
    return ended


async def take_turn(turn: Turn, uow: WarehouseUnitOfWork, deps: Deps) -> RequestStatus | MustBuy:
    """One command's turn in a transaction of its own."""
    ended = (await take_turns([turn], uow, deps))[0]
    if ended is None:
        raise UnknownSupplyRequest(turn.cmd.request_id)
    return ended


async def supply_ingredient(
    cmd: SupplyIngredient, context: MessageContext, progress: Progress, deps: Deps, turn: TakeTurn
) -> RequestStatus:
    """Run one supply command to its end, each of its units of work through `turn`; returns how the
    request ended."""
    step = Turn(cmd, context, progress.inbox)
    while True:
        ended = await turn(step)
        if isinstance(ended, RequestStatus):
            return ended
        req = ended.request
        await progress.keep_alive()
        wanted = req.to_buy()
        remaining = (req.deadline - deps.clock()).total_seconds()
        try:
            bought = await deps.market.buy(req.ingredient, wanted, max(min(deps.market_timeout_s, remaining), 0.05))
        except MarketUnavailable as exc:
            await deps.pause()
            step = replace(step, first=False, purchase=None, last_error=f"market unavailable: {exc}")
            continue
        step = replace(step, first=False, purchase=Purchase(wanted, bought))
