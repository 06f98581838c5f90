"""The kitchen's use cases, `verb_noun(cmd, uow, deps)`: each runs in one unit of work.

Locks are always taken order first, then pantry rows (the pantry port locks them in one order; a use
case that locks several orders locks them in one statement, in one order too), so no two use cases can
deadlock each other. A use case that finds nothing to do still commits, so
the message it handles is recorded in the inbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_contracts.kitchen import PantryReason
from brigade_kitchen.domain.errors import DishVersionChanged, UnknownDish, UnknownOrder, UnknownSupplyRequest
from brigade_kitchen.domain.events import Event
from brigade_kitchen.domain.journey import purchase_key
from brigade_kitchen.domain.model import Deadlines, Holds, Move, Order, Payment
from brigade_kitchen.service import commands as c
from brigade_kitchen.service.ports import Clock, IdSource, KitchenUnitOfWork, OrderEntry


@dataclass(frozen=True)
class Deps:
    """What the use cases need besides their unit of work."""

    clock: Clock
    new_id: IdSource
    deadlines: Deadlines


@dataclass(frozen=True)
class Placed:
    """A placed order, or (`replayed`) the order an earlier request with the same key placed."""

    order_id: str
    entry: OrderEntry | None
    replayed: bool = False


def stored(order: Order) -> OrderEntry:
    """The order as its unit of work committed it: its state, and the times the commit stamped."""
    if order.created_at is None or order.updated_at is None:
        raise RuntimeError(f"order {order.id} was not stored")
    return OrderEntry(order.state(), order.created_at, order.updated_at)


async def place_order(cmd: c.PlaceOrder, uow: KitchenUnitOfWork, deps: Deps) -> Placed:
    """Create the order, hold what the pantry has, and ask the warehouse for the rest."""
    async with uow:
        # The key's claim, the dish and the lock of its pantry rows: one round trip.
        intake = await uow.take_order(cmd.idempotency, cmd.order_id, cmd.dish_id)
        if intake.earlier is not None:
            return Placed(intake.earlier, None, replayed=True)
        dish = intake.dish
        if dish is None:
            raise UnknownDish(cmd.dish_id)
        if cmd.dish_version is not None and cmd.dish_version != dish.version:
            raise DishVersionChanged(dish.id, cmd.dish_version, dish.version)
        pantry = intake.pantry
        order = Order.place(
            cmd.order_id,
            cmd.customer_id,
            dish,
            cmd.quantity,
            pantry,
            new_request_id=deps.new_id,
            now=deps.clock(),
            deadlines=deps.deadlines,
        )
        _hold(uow, order.id, order.holds)
        uow.orders.add(order)
        await uow.commit()
    return Placed(order.id, stored(order))


async def place_orders(
    jobs: Sequence[tuple[c.PlaceOrder, MessageContext]], uow: KitchenUnitOfWork, deps: Deps
) -> list[Placed | None]:
    """Place several orders in one transaction, each as `place_order` would for its own request (whose
    context its messages carry), one after the other on the pantry as the ones before left it. None
    for an order this transaction does not place, which is then placed alone: one whose key an earlier
    request claimed (a replay), whose dish is off the menu or at another version than it names, or
    whose key is another order's of the group."""
    async with uow:
        dishes = await uow.take_orders([cmd for cmd, _ in jobs])
        orders: list[Order | None] = []
        for (cmd, context), dish in zip(jobs, dishes, strict=True):
            if dish is None:
                orders.append(None)
                continue
            order = Order.place(
                cmd.order_id,
                cmd.customer_id,
                dish,
                cmd.quantity,
                uow.pantry.balances(dish.recipe),
                new_request_id=deps.new_id,
                now=deps.clock(),
                deadlines=deps.deadlines,
            )
            _hold(uow, order.id, order.holds)
            uow.orders.add(order)
            uow.speak_for(order.id, context)
            orders.append(order)
        await uow.commit()
    return [None if order is None else Placed(order.id, stored(order)) for order in orders]


async def cancel_order(cmd: c.CancelOrder, uow: KitchenUnitOfWork, deps: Deps) -> OrderEntry:
    """The customer (or staff) cancels a pending or reserved order; its holds go back to the pantry."""
    async with uow:
        order = await uow.orders.get(cmd.order_id)
        if order is None or (order.customer_id != cmd.by and not cmd.is_staff):
            raise UnknownOrder(cmd.order_id)
        await _release(uow, order.id, order.cancel(cmd.by))
        await uow.commit()
    return stored(order)


async def apply_delivery(cmd: c.ApplyDelivery, uow: KitchenUnitOfWork, deps: Deps) -> None:
    """Stock the pantry with a delivery; while the order still waits, hold it for the order."""
    async with uow:
        order = await _order_of_request(uow, cmd.request_id)
        ingredient = order.supply[cmd.request_id].ingredient
        hold = order.receive(cmd.request_id, cmd.amount, now=deps.clock(), deadlines=deps.deadlines)
        if hold is not None:
            await uow.pantry.lock([ingredient])
            _record(
                uow, await uow.pantry.move_all([Move(ingredient, cmd.amount, PantryReason.DELIVERY, order.id, hold)])
            )
        await uow.commit()


async def apply_deliveries(
    jobs: Sequence[tuple[c.ApplyDelivery, MessageContext, InboxEntry]], uow: KitchenUnitOfWork, deps: Deps
) -> list[bool | None]:
    """Apply several deliveries in one transaction, each as `apply_delivery` would, each event's
    message in its own job's context. For each: True when applied, False when its message was
    processed already, None when this transaction leaves it to be applied alone (a delivery for a
    request unknown here: alone, it gets the error its message deserves)."""
    applied: list[bool | None] = [None] * len(jobs)
    async with uow:
        orders = await uow.orders.for_supply_requests([cmd.request_id for cmd, _, _ in jobs])
        known = [i for i, (cmd, _, _) in enumerate(jobs) if cmd.request_id in orders]
        claims = await uow.claim_all([jobs[i][2] for i in known])
        moves: list[Move] = []
        for i, claimed in zip(known, claims, strict=True):
            applied[i] = claimed
            cmd, context, _ = jobs[i]
            if not claimed:
                continue
            order = orders[cmd.request_id]
            uow.speak_for(order.id, context)
            hold = order.receive(cmd.request_id, cmd.amount, now=deps.clock(), deadlines=deps.deadlines)
            if hold is not None:
                moves.append(
                    Move(order.supply[cmd.request_id].ingredient, cmd.amount, PantryReason.DELIVERY, order.id, hold)
                )
        if moves:
            await uow.pantry.lock(m.ingredient for m in moves)
            _record(uow, await uow.pantry.move_all(moves))
        await uow.commit()
    return applied


async def apply_supply_failure(cmd: c.ApplySupplyFailure, uow: KitchenUnitOfWork, deps: Deps) -> None:
    """The warehouse gave up: a waiting order fails and lets go of what it held."""
    async with uow:
        order = await _order_of_request(uow, cmd.request_id)
        await _release(uow, order.id, order.supply_failed(cmd.request_id, cmd.reason))
        await uow.commit()


async def record_purchase(cmd: c.RecordPurchase, uow: KitchenUnitOfWork, deps: Deps) -> None:
    """A market purchase for one of the kitchen's supply requests becomes a step of its order's
    journey (`record_purchases`, alone: its message is claimed by the unit of work)."""
    async with uow:
        order = (await uow.orders.read_for_supply_requests([cmd.request_id])).get(cmd.request_id)
        if order is not None:
            _purchased(order, cmd)
        await uow.commit()


async def record_purchases(
    jobs: Sequence[tuple[c.RecordPurchase, MessageContext, InboxEntry]], uow: KitchenUnitOfWork, deps: Deps
) -> list[bool | None]:
    """Several market purchases in one transaction, each a step of its order's journey, its message in
    its own job's context. The orders are read, not locked: a purchase changes nothing of its order,
    so it neither waits for the delivery transactions that hold orders nor holds them up. A purchase
    for a request the kitchen never made (the warehouse buys for others too) is nobody's journey: it
    is acknowledged and ignored, not dead-lettered. For each: True when recorded (or ignored), False
    when its message was processed already."""
    async with uow:
        orders = await uow.orders.read_for_supply_requests([cmd.request_id for cmd, _, _ in jobs])
        claims = await uow.claim_all([inbox for _, _, inbox in jobs])
        for (cmd, context, _), claimed in zip(jobs, claims, strict=True):
            order = orders.get(cmd.request_id)
            if claimed and order is not None:
                uow.speak_for(order.id, context, step=purchase_key(cmd.purchase_id))
                _purchased(order, cmd)
        await uow.commit()
    return list(claims)


def _purchased(order: Order, cmd: c.RecordPurchase) -> None:
    order.purchased(cmd.request_id, cmd.purchase_id, cmd.received, cmd.supplier, cmd.at)


async def serve_paid_order(cmd: c.ServePaidOrder, uow: KitchenUnitOfWork, deps: Deps) -> None:
    """Payment arrived: the held ingredients are consumed and the order is served; a payment the
    order can no longer take is refused (the refusal goes out with the commit, and is refunded)."""
    async with uow:
        order = await _order(uow, cmd.order_id)
        consumed = order.serve(Payment(cmd.payment_id, cmd.customer_id, cmd.amount_cents))
        if consumed:
            await uow.pantry.lock(consumed)
            eaten = [Move(i, -units, PantryReason.CONSUME, order.id, -units) for i, units in consumed.items()]
            _record(uow, await uow.pantry.move_all(eaten))
        await uow.commit()


async def expire_order(cmd: c.ExpireOrder, uow: KitchenUnitOfWork, deps: Deps) -> None:
    """The order's deadline passed: unpaid, it expires; still short, it fails; it lets go of its holds."""
    async with uow:
        order = await _order(uow, cmd.order_id)
        await _release(uow, order.id, order.expire(deps.clock(), cmd.scheduled_for))
        await uow.commit()


async def _order(uow: KitchenUnitOfWork, order_id: str) -> Order:
    order = await uow.orders.get(order_id)
    if order is None:
        raise UnknownOrder(order_id)
    return order


async def _order_of_request(uow: KitchenUnitOfWork, request_id: str) -> Order:
    order = await uow.orders.for_supply_request(request_id)
    if order is None:
        raise UnknownSupplyRequest(request_id)
    return order


def _record(uow: KitchenUnitOfWork, events: Sequence[Event]) -> None:
    for event in events:
        uow.record(event)


def _hold(uow: KitchenUnitOfWork, order_id: str, holds: Holds) -> None:
    """Change the order's holds on locked rows, and tell the pantry's readers (one event per order)."""
    if holds:
        uow.record(uow.pantry.hold(order_id, holds))


async def _release(uow: KitchenUnitOfWork, order_id: str, released: Holds | None) -> None:
    """Give holds back to the pantry (the ingredients stay on hand)."""
    if not released:
        return
    await uow.pantry.lock(released)
    _hold(uow, order_id, {ingredient: -units for ingredient, units in released.items()})


Handler = Callable[[Any, KitchenUnitOfWork, Deps], Awaitable[Any]]

HANDLERS: Mapping[type, Handler] = {
    c.PlaceOrder: place_order,
    c.CancelOrder: cancel_order,
    c.ApplyDelivery: apply_delivery,
    c.ApplySupplyFailure: apply_supply_failure,
    c.RecordPurchase: record_purchase,
    c.ServePaidOrder: serve_paid_order,
    c.ExpireOrder: expire_order,
}
