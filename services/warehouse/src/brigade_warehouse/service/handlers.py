"""Supplying the kitchen: allocate from stock, buy from the market until there is enough, deliver.

Each step is its own unit of work: the first look at the stock (which also registers the request,
so a request the stock covers takes one transaction), each purchase (recorded as a stock movement
the moment it is made, so a crash mid-loop loses nothing), and the final delivery or failure, which
also marks the command processed. A redelivered command resumes the loop where it
stopped; a command whose request is settled is only marked processed.

`open_requests` takes that first step for several commands in one transaction (the commands that came
while another first step ran: `Warehouse.supply`); each request that must buy then goes on alone.
Locks are taken requests first (several in one statement, in id order), then stock rows (in theirs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_contracts.warehouse import StockReason
from brigade_warehouse.domain.errors import MarketUnavailable, UnknownSupplyRequest
from brigade_warehouse.domain.model import RequestStatus, Step, SupplyRequest
from brigade_warehouse.service.commands import SupplyIngredient
from brigade_warehouse.service.ports import Clock, Market, Pause, Progress, WarehouseUnitOfWork

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
class MustBuy:
    """A request registered (committed) that the stock did not cover: what it found on hand."""

    request: SupplyRequest
    on_hand: int


async def open_requests(
    jobs: Sequence[tuple[SupplyIngredient, MessageContext, InboxEntry]], uow: WarehouseUnitOfWork, deps: Deps
) -> list[RequestStatus | MustBuy | None]:
    """The first step of `supply_ingredient` for several commands in one transaction, each as it would
    be alone: its request registered, then delivered from the stock as the one before left it (or
    failed, past its deadline), its messages in its own command's context. For each: how its request
    ended (its command marked processed); `MustBuy` to go on alone at the market; None when this
    transaction did not find it (alone, it gets its error)."""
    deadline = deps.clock() + timedelta(seconds=deps.deadline_s)
    ended: list[RequestStatus | MustBuy | None] = [None] * len(jobs)
    async with uow:
        for cmd, _, _ in jobs:
            uow.requests.open(SupplyRequest(cmd.request_id, cmd.order_id, cmd.ingredient, cmd.amount, deadline))
        requests = await uow.requests.get_all([cmd.request_id for cmd, _, _ in jobs])
        on_hand = await uow.stock.lock_all(r.ingredient for r in requests.values() if r.status is RequestStatus.OPEN)
        for i, (cmd, context, inbox) in enumerate(jobs):
            req = requests.get(cmd.request_id)
            if req is None:
                continue
            uow.speak_for(req.id, context)
            if req.status is RequestStatus.OPEN:
                step = req.next_step(on_hand[req.ingredient], deps.clock())
                if step is Step.BUY:
                    ended[i] = MustBuy(req, on_hand[req.ingredient])
                    continue
                if step is Step.DELIVER:
                    moved = await uow.stock.move(req.ingredient, -req.amount, StockReason.SUPPLY, req.id)
                    on_hand[req.ingredient] = moved.balance
                    uow.record(moved)
                    req.deliver()
                else:
                    req.fail(NEVER_ENOUGH)
            uow.mark_processed(inbox)
            ended[i] = req.status
        await uow.commit()
    return ended


async def supply_ingredient(
    cmd: SupplyIngredient,
    uow: Callable[[], WarehouseUnitOfWork],
    deps: Deps,
    progress: Progress,
    *,
    opened: MustBuy | None = None,
) -> RequestStatus:
    """Run one supply command to its end; returns how the request ended. `opened`: its first step ran
    already (`open_requests`), and the market is next."""
    deadline = deps.clock() + timedelta(seconds=deps.deadline_s)
    opening = None if opened else SupplyRequest(cmd.request_id, cmd.order_id, cmd.ingredient, cmd.amount, deadline)
    last_error = NEVER_ENOUGH
    while True:
        if opened is not None:
            req, on_hand, opened = opened.request, opened.on_hand, None
        else:
            async with uow() as u:
                if opening is not None:
                    # Registered with the first step: one transaction when the stock covers it (no-op
                    # when a redelivery finds the request registered already).
                    u.requests.open(opening)
                    opening = None
                found = await u.requests.get(cmd.request_id)
                if found is None:
                    raise UnknownSupplyRequest(cmd.request_id)
                req = found
                if req.status is not RequestStatus.OPEN:
                    u.mark_processed(progress.inbox)
                    await u.commit()
                    return req.status
                on_hand = await u.stock.lock(req.ingredient)
                step = req.next_step(on_hand, deps.clock())
                if step is Step.DELIVER:
                    u.record(await u.stock.move(req.ingredient, -req.amount, StockReason.SUPPLY, req.id))
                    req.deliver()
                elif step is Step.FAIL:
                    req.fail(last_error)
                if step is not Step.BUY:
                    u.mark_processed(progress.inbox)
                    await u.commit()
                    return req.status
                await u.commit()  # the registration, before the market is called
        await progress.keep_alive()
        wanted = req.to_buy(on_hand)
        remaining = (req.deadline - deps.clock()).total_seconds()
        try:
            bought = await deps.market.buy(req.ingredient, wanted, max(min(deps.market_timeout_s, remaining), 0.05))
        except MarketUnavailable as exc:
            last_error = f"market unavailable: {exc}"
            await deps.pause()
            continue
        async with uow() as u:
            u.record(await u.purchases.record(req.id, req.ingredient, wanted, bought.amount, bought.supplier))
            if bought.amount:
                await u.stock.lock(req.ingredient)
                u.record(await u.stock.move(req.ingredient, bought.amount, StockReason.PURCHASE, req.id))
            await u.commit()
