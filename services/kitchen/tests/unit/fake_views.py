"""An in-memory fake of the kitchen's read side (`KitchenViews`), over the same `KitchenState` the
fake unit of work writes: what a use case committed, the views read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from brigade_contracts.kitchen import OrderStatus
from brigade_kitchen.domain.events import OrderState
from brigade_kitchen.domain.journey import Step
from brigade_kitchen.domain.model import TRANSITIONS, Balance, Dish
from brigade_kitchen.service.ports import Movement, OrderEntry
from services.kitchen.tests.unit.fakes import KitchenState


class FakeViews:
    def __init__(self, state: KitchenState) -> None:
        self._state = state

    async def dishes(self, ids: Sequence[str] | None = None) -> list[Dish]:
        found = [d for d in self._state.dishes.values() if (ids is None or d.id in ids) and not self._retired(d.id)]
        return sorted(found, key=lambda d: d.name)

    async def dish_ids(self) -> list[str]:
        return [d for d in self._state.dishes if not self._retired(d)]

    async def image(self, digest: str) -> tuple[str, bytes] | None:
        return self._state.images.get(digest)

    def _retired(self, dish_id: str) -> bool:
        return dish_id in self._state.retired

    async def order(self, order_id: str) -> OrderState | None:
        order = self._state.orders.get(order_id)
        return order.state() if order else None

    async def order_entry(self, order_id: str) -> OrderEntry | None:
        order = self._state.orders.get(order_id)
        if order is None or order.created_at is None or order.updated_at is None:
            return None
        return OrderEntry(order.state(), order.created_at, order.updated_at)

    async def journey(self, order_id: str) -> list[Step]:
        return self._state.journey(order_id)

    async def orders_of(
        self,
        customer_id: str | None,
        *,
        statuses: frozenset[OrderStatus] = frozenset(),
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[OrderEntry]:
        raise NotImplementedError

    async def overdue(self, now: datetime, limit: int) -> list[str]:
        waiting = [o for o in self._state.orders.values() if o.status in TRANSITIONS and o.expires_at]
        due = sorted((o for o in waiting if o.expires_at and o.expires_at <= now), key=lambda o: o.expires_at or now)
        return [o.id for o in due][:limit]

    async def pantry(self) -> list[Balance]:
        return [self._state.balance(i) for i in sorted(self._state.pantry)]

    async def movements(self, *, before: int | None, limit: int) -> list[Movement]:
        raise NotImplementedError
