"""Supplying the kitchen: allocate from stock, buy from the market until there is enough, deliver.

Each step is its own unit of work: the first look at the stock (which also registers the request,
so a request the stock covers takes one transaction), each purchase (recorded as a stock movement
the moment it is made, so a crash mid-loop loses nothing), and the final delivery or failure, which
also marks the command processed. A redelivered command resumes the loop where it
stopped; a command whose request is settled is only marked processed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from brigade_contracts.warehouse import StockReason
from brigade_warehouse.domain.errors import MarketUnavailable, UnknownSupplyRequest
from brigade_warehouse.domain.model import RequestStatus, Step, SupplyRequest
from brigade_warehouse.service.commands import SupplyIngredient
from brigade_warehouse.service.ports import Clock, Market, Pause, Progress, WarehouseUnitOfWork


@dataclass(frozen=True)
class Deps:
    clock: Clock
    market: Market
    pause: Pause  # between failed market calls
    deadline_s: float  # a request not covered by then fails
    market_timeout_s: float  # one market call may take at most this long


async def supply_ingredient(
    cmd: SupplyIngredient, uow: Callable[[], WarehouseUnitOfWork], deps: Deps, progress: Progress
) -> RequestStatus:
    """Run one supply command to its end; returns how the request ended."""
    deadline = deps.clock() + timedelta(seconds=deps.deadline_s)
    opening: SupplyRequest | None = SupplyRequest(cmd.request_id, cmd.order_id, cmd.ingredient, cmd.amount, deadline)
    last_error = "the market never had enough"
    while True:
        async with uow() as u:
            if opening is not None:
                # Registered with the first step: one transaction when the stock covers it (no-op when
                # a redelivery finds the request registered already).
                u.requests.open(opening)
                opening = None
            req = await u.requests.get(cmd.request_id)
            if req is None:
                raise UnknownSupplyRequest(cmd.request_id)
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
