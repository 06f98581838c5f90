"""Supplying the kitchen: allocate from stock, buy from the market until there is enough, deliver.

Each step is its own transaction: registering the request, each purchase (recorded as a stock
movement the moment it is made, so a crash mid-loop loses nothing), and the final delivery or failure,
which also marks the command processed. A redelivered command resumes the loop where it stopped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import asyncpg

from brigade_common.consumer import Delivery
from brigade_common.envelope import Envelope
from brigade_contracts import warehouse as w
from brigade_contracts.market import BuyReply
from brigade_warehouse.adapters.repository import WarehouseRepo
from brigade_warehouse.domain.supply import SupplyState, decide, to_buy


class Market(Protocol):
    """Buys from the market; raises on failure (market down, too slow)."""

    async def __call__(self, ingredient: str, amount: int, timeout: float) -> BuyReply: ...


def _now() -> datetime:
    return datetime.now(UTC)


async def _stock_moved(
    repo: WarehouseRepo, ingredient: str, delta: int, reason: str, request_id: str, cause: Envelope
) -> None:
    movement_id, balance = await repo.move(ingredient, delta, reason, request_id)
    event = w.StockMoved(
        movement_id=movement_id,
        ingredient=ingredient,
        delta=delta,
        reason=reason,
        balance=balance,
        request_id=request_id,
    )
    await repo.emit(Envelope.wrap(w.STOCK_MOVED, event, causation=cause))


async def supply(
    cmd: w.SupplyIngredient,
    cause: Envelope,
    delivery: Delivery,
    *,
    pool: asyncpg.Pool,
    market: Market,
    deadline_s: float,
    market_timeout_s: float,
    on_commit: Callable[[], None],
    pause: Callable[[], Awaitable[None]],
) -> str:
    """Run one supply command to its end; returns the outcome (`delivered` or `failed`)."""
    async with pool.acquire() as conn, conn.transaction():
        await WarehouseRepo(conn).open_request(
            cmd.request_id, cmd.order_id, cmd.ingredient, cmd.amount, _now() + timedelta(seconds=deadline_s)
        )
    last_error = "the market never had enough"
    while True:
        async with pool.acquire() as conn, conn.transaction():
            repo = WarehouseRepo(conn)
            req = await repo.lock_request(cmd.request_id)
            assert req is not None
            if req.status != "open":
                await delivery.mark_processed(conn)
                return req.status
            state = SupplyState(req.amount, await repo.lock_stock(req.ingredient), req.deadline)
            decision = decide(state, _now())
            if decision == "deliver":
                await _stock_moved(repo, req.ingredient, -req.amount, "supply", req.id, cause)
                await repo.resolve_request(req.id, "delivered")
                await repo.emit(
                    Envelope.wrap(
                        w.SUPPLY_DELIVERED,
                        w.SupplyDelivered(
                            request_id=req.id,
                            order_id=req.order_id,
                            ingredient=req.ingredient,
                            amount=req.amount,
                        ),
                        causation=cause,
                    )
                )
                await delivery.mark_processed(conn)
            elif decision == "fail":
                await repo.resolve_request(req.id, "failed", last_error)
                await repo.emit(
                    Envelope.wrap(
                        w.SUPPLY_FAILED,
                        w.SupplyFailed(
                            request_id=req.id,
                            order_id=req.order_id,
                            ingredient=req.ingredient,
                            amount=req.amount,
                            reason=last_error,
                        ),
                        causation=cause,
                    )
                )
                await delivery.mark_processed(conn)
        if decision != "buy":
            on_commit()
            return "delivered" if decision == "deliver" else "failed"
        await delivery.keep_alive()
        remaining = (req.deadline - _now()).total_seconds()
        wanted = to_buy(state)
        try:
            reply = await market(req.ingredient, wanted, max(min(market_timeout_s, remaining), 0.05))
        except Exception as exc:
            last_error = f"market unavailable: {exc}"
            await pause()
            continue
        async with pool.acquire() as conn, conn.transaction():
            repo = WarehouseRepo(conn)
            purchase_id = await repo.record_purchase(req.id, req.ingredient, wanted, reply.amount, reply.supplier)
            await repo.emit(
                Envelope.wrap(
                    w.PURCHASE_MADE,
                    w.PurchaseMade(
                        purchase_id=purchase_id,
                        request_id=req.id,
                        ingredient=req.ingredient,
                        requested=wanted,
                        received=reply.amount,
                        supplier=reply.supplier,
                    ),
                    causation=cause,
                )
            )
            if reply.amount:
                await repo.lock_stock(req.ingredient)
                await _stock_moved(repo, req.ingredient, reply.amount, "purchase", req.id, cause)
        on_commit()
