"""The kitchen as its entrypoints use it: every use case with its unit of work, the read side, and
placing an order the way a customer waits for it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from brigade_common.admission import MAX_GROUP, Admission, each_as_alone
from brigade_common.messaging import AlreadyProcessed, InboxEntry, MessageContext
from brigade_contracts.kitchen import OrderStatus
from brigade_kitchen.domain.errors import ExpiryNotDue, UnknownOrder
from brigade_kitchen.domain.events import OrderState
from brigade_kitchen.domain.model import Dish
from brigade_kitchen.service import menu
from brigade_kitchen.service.commands import ApplyDelivery, ExpireOrder, PlaceOrder, RecordPurchase
from brigade_kitchen.service.handlers import (
    HANDLERS,
    Deps,
    Placed,
    apply_deliveries,
    place_order,
    place_orders,
    record_purchases,
)
from brigade_kitchen.service.ports import (
    KitchenUnitOfWork,
    KitchenViews,
    MenuCache,
    OrderEntry,
    OrderWaiters,
    UnitOfWorkFactory,
    Waiting,
)

_HANDLERS = {**HANDLERS, **menu.HANDLERS}
# A message of the warehouse's as its transaction takes it (a delivery's, a purchase's): the command,
# its context, its inbox entry.
Delivered = tuple[ApplyDelivery, MessageContext, InboxEntry]
Purchased = tuple[RecordPurchase, MessageContext, InboxEntry]
Job = TypeVar("Job", Delivered, Purchased)


@dataclass(frozen=True)
class Placement:
    """What the customer who placed an order is told: the order as it stands, and whether an
    earlier request with the same `Idempotency-Key` placed it."""

    entry: OrderEntry
    replayed: bool = False

    @property
    def order(self) -> OrderState:
        return self.entry.order


class Kitchen:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        views: KitchenViews,
        waiters: OrderWaiters,
        deps: Deps,
        order_wait_s: float,
        max_concurrent_reservations: int = 0,
        max_concurrent_deliveries: int = 0,
        max_deliveries_together: int = MAX_GROUP,
        menu_cache: MenuCache | None = None,
    ) -> None:
        self.views = views
        self._menu_cache = menu_cache
        self.deps = deps
        self._uow = uow
        self._waiters = waiters
        self._order_wait_s = order_wait_s
        self._admission: Admission[tuple[PlaceOrder, MessageContext], Placed] = Admission(
            max_concurrent_reservations, self._place_group
        )
        # Deliveries and purchases each in transactions of their own: a purchase locks nothing, and a
        # backlog of purchases (no order waits for one) never fills the transactions orders wait for.
        self._deliveries: Admission[Delivered, bool] = Admission(
            max_concurrent_deliveries,
            self._grouped(apply_deliveries, "deliveries"),
            max_group=max_deliveries_together,
        )
        self._purchases: Admission[Purchased, bool] = Admission(
            max_concurrent_deliveries,
            self._grouped(record_purchases, "purchases"),
            max_group=max_deliveries_together,
        )

    async def handle(self, cmd: Any, *, context: MessageContext, inbox: InboxEntry | None = None) -> Any:
        """Run the use case of `cmd` in a unit of work of its own."""
        result = await _HANDLERS[type(cmd)](cmd, self._uow(context, inbox), self.deps)
        if self._menu_cache is not None and isinstance(result, Dish):
            # Whoever changed a dish reads it changed at once. Every other kitchen hears of it from
            # the dish event (the kitchen-menu-cache consumer), which also makes up for a failure here.
            await self._menu_cache.try_forget(result.id)
        return result

    @property
    def orders_waiting(self) -> int:
        """Orders waiting for a reservation transaction (all that admission control lets run, run)."""
        return self._admission.waiting

    @property
    def deliveries_waiting(self) -> int:
        """Deliveries and purchases waiting for a transaction (all that may run at once, run)."""
        return self._deliveries.waiting + self._purchases.waiting

    async def place(self, cmd: PlaceOrder, *, context: MessageContext) -> Placement:
        """Place the order, then wait up to the order wait for it to leave `pending` (the saga goes
        on without the caller after that)."""
        with self._waiters.register(cmd.order_id) as waiting:
            # At most N reservation transactions at once; the orders that come meanwhile wait here, not on
            # the pantry row locks, and go together in the next.
            placed = await self._admission.submit((cmd, context))
            if placed.replayed or placed.entry is None:
                earlier = await self.views.order_entry(placed.order_id)
                if earlier is None:
                    raise UnknownOrder(placed.order_id)
                return Placement(earlier, replayed=True)
            entry = placed.entry
            if entry.order.status is OrderStatus.PENDING:
                entry = await self._outcome(waiting, entry)
        return Placement(entry)

    async def _place_group(self, jobs: Sequence[tuple[PlaceOrder, MessageContext]]) -> list[Placed | BaseException]:
        """Place orders together in one transaction; an order the group cannot place (a replay, a dish
        off the menu or at another version), or every order when the group's transaction fails, is
        then placed alone, so that each gets the answer it would have got by itself. A lone order goes
        the single way at once."""

        async def together(group: Sequence[tuple[PlaceOrder, MessageContext]]) -> Sequence[Placed | None]:
            if len(group) == 1:
                return [None]
            return await place_orders(group, self._uow(group[0][1], None), self.deps)

        async def alone(job: tuple[PlaceOrder, MessageContext]) -> Placed:
            return await place_order(job[0], self._uow(job[1], None), self.deps)

        return await each_as_alone(jobs, together, alone, what="orders")

    async def receive(self, cmd: ApplyDelivery | RecordPurchase, *, context: MessageContext, inbox: InboxEntry) -> None:
        """Apply a delivery the warehouse made, or record a purchase it made for one of the kitchen's
        requests; at most N transactions of each at once, and what comes meanwhile goes together in
        the next (as orders do). `AlreadyProcessed` when its message was processed before."""
        if isinstance(cmd, ApplyDelivery):
            applied = await self._deliveries.submit((cmd, context, inbox))
        else:
            applied = await self._purchases.submit((cmd, context, inbox))
        if not applied:
            raise AlreadyProcessed(inbox.message_id)

    def _grouped(
        self,
        together: Callable[[Sequence[Job], KitchenUnitOfWork, Deps], Awaitable[Sequence[bool | None]]],
        what: str,
    ) -> Callable[[Sequence[Job]], Awaitable[list[bool | BaseException]]]:
        """A group of the warehouse's messages applied by `together` in one transaction (a lone one too:
        its message is claimed the same way); one the group leaves (a delivery for a request unknown
        here), or every one when the group's transaction fails, is then applied alone, and gets the
        outcome it would have had."""

        async def group(jobs: Sequence[Job]) -> list[bool | BaseException]:
            async def all_at_once(some: Sequence[Job]) -> Sequence[bool | None]:
                return await together(some, self._uow(some[0][1], None), self.deps)

            async def alone(job: Job) -> bool:
                cmd, context, inbox = job
                try:
                    await _HANDLERS[type(cmd)](cmd, self._uow(context, inbox), self.deps)
                except AlreadyProcessed:
                    return False
                return True

            return await each_as_alone(jobs, all_at_once, alone, what=what)

        return group

    async def _outcome(self, waiting: Waiting, placed: OrderEntry) -> OrderEntry:
        """The pending order's first state past `pending`, or as it stands at the end of the wait."""
        order_id = placed.order.order_id
        if not await waiting.listen():  # nobody listened: an outcome may have come already
            current = await self.views.order_entry(order_id)
            if current is not None and current.order.status is not OrderStatus.PENDING:
                return current
        try:
            changed = await asyncio.wait_for(asyncio.shield(waiting.settled), self._order_wait_s)
        except TimeoutError:
            return await self.views.order_entry(order_id) or placed
        return OrderEntry(changed.order, placed.created_at, changed.at or placed.updated_at)

    async def settle_overdue(self, limit: int = 100) -> int:
        """Settle every order whose deadline passed (the safety net under the scheduled checks: one
        lost or dead-lettered delays a release by one sweep at most); how many were looked at."""
        overdue = await self.views.overdue(self.deps.clock(), limit)
        context = MessageContext(f"sweep-{self.deps.new_id()}")
        for order_id in overdue:
            with contextlib.suppress(ExpiryNotDue):  # its deadline moved on since the read
                await self.handle(ExpireOrder(order_id), context=context)
        return len(overdue)
