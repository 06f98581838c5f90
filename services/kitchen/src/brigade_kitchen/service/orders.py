"""Kitchen use cases: place, reserve, serve, cancel, expire, and what deliveries and failures do.

Each runs inside one transaction on a `KitchenRepo`; events leave through the outbox in that same
transaction. Locks are always taken order row first, then pantry rows in sorted order, so no two
use cases can deadlock each other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from brigade_common.envelope import Envelope
from brigade_contracts import kitchen as k
from brigade_contracts.kitchen import OrderSnapshot
from brigade_contracts.warehouse import SUPPLY_CMD, SupplyDelivered, SupplyFailed, SupplyIngredient
from brigade_kitchen.adapters.repository import KitchenRepo, Line, SupplyRequest
from brigade_kitchen.domain.orders import (
    InvalidTransition,
    UnknownDish,
    UnknownOrder,
    allocate,
    check_transition,
    requirements,
)

SCHEDULE = "Nats-Schedule"
SCHEDULE_TARGET = "Nats-Schedule-Target"

EVENT_FOR_STATUS = {
    "pending": k.ORDER_PLACED,
    "reserved": k.ORDER_RESERVED,
    "served": k.ORDER_SERVED,
    "cancelled": k.ORDER_CANCELLED,
    "expired": k.ORDER_EXPIRED,
    "failed": k.ORDER_FAILED,
}


class ExpiryNotDue(Exception):
    """The expiry message arrived before the order's deadline (clock skew): try again later."""


@dataclass(frozen=True)
class PlaceOrder:
    order_id: str
    customer_id: str
    dish_id: str
    quantity: int
    correlation_id: str


def _now() -> datetime:
    return datetime.now(UTC)


async def _emit_order(repo: KitchenRepo, order: OrderSnapshot, cause: Envelope | None, corr: str) -> None:
    await repo.emit(Envelope.wrap(EVENT_FOR_STATUS[order.status], order, correlation_id=corr, causation=cause))


async def _transition(
    repo: KitchenRepo, order: OrderSnapshot, status: str, cause: Envelope | None, corr: str, **changes: object
) -> OrderSnapshot:
    check_transition(order.status, status)
    updated = order.model_copy(update={"status": status, "version": order.version + 1, **changes})
    await repo.update_order(updated)
    await _emit_order(repo, updated, cause, corr)
    return updated


async def _pantry_moved(
    repo: KitchenRepo,
    ingredient: str,
    delta: int,
    reason: str,
    order_id: str | None,
    corr: str,
    cause: Envelope | None,
    reserved_delta: int = 0,
) -> None:
    movement_id, balance = await repo.move(ingredient, delta, reason, order_id, reserved_delta)
    event = k.PantryMoved(
        movement_id=movement_id,
        ingredient=ingredient,
        delta=delta,
        reason=reason,
        on_hand=balance.on_hand,
        reserved=balance.reserved,
        order_id=order_id,
    )
    await repo.emit(Envelope.wrap(k.PANTRY_MOVED, event, correlation_id=corr, causation=cause))


async def place_order(repo: KitchenRepo, cmd: PlaceOrder, *, payment_window_s: float) -> OrderSnapshot:
    """Create the order, reserve what the pantry has, and ask the warehouse for the rest."""
    dish = await repo.dish(cmd.dish_id)
    if dish is None:
        raise UnknownDish(cmd.dish_id)
    order = OrderSnapshot(
        order_id=cmd.order_id,
        customer_id=cmd.customer_id,
        dish_id=dish.id,
        dish_name=dish.name,
        quantity=cmd.quantity,
        total_cents=dish.price_cents * cmd.quantity,
        status="pending",
        version=1,
    )
    await repo.insert_order(order)
    await _emit_order(repo, order, None, cmd.correlation_id)
    needed = requirements(dish.recipe, cmd.quantity)
    balances = await repo.lock_pantry(needed)
    lines = []
    for ingredient in sorted(needed):
        b = balances[ingredient]
        alloc = allocate(needed[ingredient], b.on_hand, b.reserved, ingredient)
        lines.append(Line(ingredient, alloc.needed, alloc.take))
        if alloc.take:
            await repo.change_reserved(ingredient, alloc.take)
        if alloc.short:
            req = SupplyRequest(str(uuid.uuid4()), order.order_id, ingredient, alloc.short, "requested")
            await repo.insert_supply_request(req)
            cmd_msg = SupplyIngredient(
                request_id=req.id, order_id=order.order_id, ingredient=ingredient, amount=alloc.short
            )
            await repo.emit(Envelope.wrap(SUPPLY_CMD, cmd_msg, correlation_id=cmd.correlation_id))
    await repo.insert_lines(order.order_id, lines)
    if all(ln.reserved == ln.needed for ln in lines):
        order = await _reserve(repo, order, None, cmd.correlation_id, payment_window_s)
    return order


async def _reserve(
    repo: KitchenRepo, order: OrderSnapshot, cause: Envelope | None, corr: str, payment_window_s: float
) -> OrderSnapshot:
    """Every line is covered: hold it for payment and schedule the expiry check."""
    expires_at = (_now() + timedelta(seconds=payment_window_s)).replace(microsecond=0) + timedelta(seconds=1)
    order = await _transition(repo, order, "reserved", cause, corr, expires_at=expires_at)
    due = k.OrderExpiryDue(order_id=order.order_id, expires_at=expires_at)
    at = expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    await repo.emit(
        Envelope.wrap(k.ORDER_EXPIRY_DUE, due, correlation_id=corr, causation=cause),
        subject=k.expiry_schedule_subject(order.order_id),
        headers={SCHEDULE: f"@at {at}", SCHEDULE_TARGET: k.ORDER_EXPIRY_DUE},
    )
    return order


async def _release(repo: KitchenRepo, order: OrderSnapshot) -> None:
    """Give the order's holds back to the pantry (ingredients stay on hand)."""
    lines = [ln for ln in await repo.lines(order.order_id) if ln.reserved]
    if not lines:
        return
    await repo.lock_pantry(ln.ingredient for ln in lines)
    for ln in lines:
        await repo.change_reserved(ln.ingredient, -ln.reserved)
    await repo.clear_line_reservations(order.order_id)


async def apply_delivery(repo: KitchenRepo, msg: SupplyDelivered, cause: Envelope, *, payment_window_s: float) -> None:
    """Stock the pantry; while the order still waits, hold the delivery for it."""
    req = await repo.lock_supply_request(msg.request_id)
    if req is None:
        raise UnknownOrder(msg.order_id)
    if req.status != "requested":
        return  # this request was already settled: a second delivery would double-count
    order = await repo.order(req.order_id, lock=True)
    assert order is not None
    await repo.resolve_supply_request(req.id, "delivered")
    await repo.lock_pantry([req.ingredient])
    corr = cause.correlation_id
    if order.status != "pending":
        await _pantry_moved(repo, req.ingredient, msg.amount, "delivery", order.order_id, corr, cause)
        return
    line = next(ln for ln in await repo.lines(order.order_id) if ln.ingredient == req.ingredient)
    hold = min(msg.amount, line.needed - line.reserved)
    await _pantry_moved(repo, req.ingredient, msg.amount, "delivery", order.order_id, corr, cause, reserved_delta=hold)
    await repo.add_line_reserved(order.order_id, req.ingredient, hold)
    if all(ln.reserved == ln.needed for ln in await repo.lines(order.order_id)):
        await _reserve(repo, order, cause, corr, payment_window_s)


async def apply_supply_failure(repo: KitchenRepo, msg: SupplyFailed, cause: Envelope) -> None:
    """The warehouse gave up: a waiting order fails and lets go of what it held."""
    req = await repo.lock_supply_request(msg.request_id)
    if req is None:
        raise UnknownOrder(msg.order_id)
    if req.status != "requested":
        return
    order = await repo.order(req.order_id, lock=True)
    assert order is not None
    await repo.resolve_supply_request(req.id, "failed")
    if order.status == "pending":
        await _release(repo, order)
        reason = f"could not get {req.amount} {req.ingredient}: {msg.reason}"
        await _transition(repo, order, "failed", cause, cause.correlation_id, reason=reason)


async def serve_paid_order(repo: KitchenRepo, order_id: str, cause: Envelope) -> OrderSnapshot | None:
    """Payment arrived: consume the held ingredients and serve."""
    order = await repo.order(order_id, lock=True)
    if order is None:
        raise UnknownOrder(order_id)
    if order.status != "reserved":
        return None  # served already (a repeat), or no longer held; payments reconciles refunds
    lines = await repo.lines(order_id)
    await repo.lock_pantry(ln.ingredient for ln in lines)
    for ln in lines:
        await _pantry_moved(
            repo,
            ln.ingredient,
            -ln.reserved,
            "consume",
            order_id,
            cause.correlation_id,
            cause,
            reserved_delta=-ln.reserved,
        )
    await repo.clear_line_reservations(order_id)
    return await _transition(repo, order, "served", cause, cause.correlation_id)


async def expire_order(repo: KitchenRepo, due: k.OrderExpiryDue, cause: Envelope) -> None:
    """The scheduled check: an order still unpaid at its deadline lets go of its holds."""
    order = await repo.order(due.order_id, lock=True)
    if order is None:
        raise UnknownOrder(due.order_id)
    if order.status != "reserved":
        return
    if order.expires_at and order.expires_at > _now():
        raise ExpiryNotDue(order.order_id)
    await _release(repo, order)
    await _transition(repo, order, "expired", cause, cause.correlation_id, reason="not paid in time")


async def cancel_order(
    repo: KitchenRepo, order_id: str, *, by: str, is_staff: bool, correlation_id: str
) -> OrderSnapshot:
    """The customer (or staff) cancels a pending or reserved order; holds go back to the pantry."""
    order = await repo.order(order_id, lock=True)
    if order is None or (order.customer_id != by and not is_staff):
        raise UnknownOrder(order_id)
    if order.status == "cancelled":
        return order  # cancelling twice is harmless
    check_transition(order.status, "cancelled")
    await _release(repo, order)
    return await _transition(repo, order, "cancelled", None, correlation_id, reason=f"cancelled by {by}")


__all__ = [
    "ExpiryNotDue",
    "InvalidTransition",
    "PlaceOrder",
    "apply_delivery",
    "apply_supply_failure",
    "cancel_order",
    "expire_order",
    "place_order",
    "serve_paid_order",
]
