"""The warehouse as its entrypoints use it: the supply use case with its units of work, and the reads.

The turns of supply commands at the stock (register a request, stock a purchase, deliver) run at most
N at once per process (`brigade_common.admission`); the turns that come meanwhile are taken together in
the next transaction. Between its turns, each command calls the market by itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from brigade_common.admission import Admission, each_as_alone
from brigade_common.messaging import MessageContext
from brigade_warehouse.domain.model import RequestStatus
from brigade_warehouse.service.commands import SupplyIngredient
from brigade_warehouse.service.handlers import Deps, MustBuy, Turn, supply_ingredient, take_turn, take_turns
from brigade_warehouse.service.ports import Progress, UnitOfWorkFactory, WarehouseViews


class Warehouse:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        views: WarehouseViews,
        deps: Deps,
        max_concurrent_stock_transactions: int = 0,
    ) -> None:
        self.views = views
        self.deps = deps
        self._uow = uow
        self._turns: Admission[Turn, RequestStatus | MustBuy] = Admission(
            max_concurrent_stock_transactions, self._take_group
        )

    @property
    def supplies_waiting(self) -> int:
        """Supply commands waiting for a stock transaction."""
        return self._turns.waiting

    async def supply(self, cmd: SupplyIngredient, *, context: MessageContext, progress: Progress) -> RequestStatus:
        return await supply_ingredient(cmd, context, progress, self.deps, self._turns.submit)

    async def _take_group(self, turns: Sequence[Turn]) -> list[RequestStatus | MustBuy | BaseException]:
        """The turns together; when the group's transaction fails, each then runs in a transaction of
        its own, and gets the outcome it would have had."""

        async def together(group: Sequence[Turn]) -> Sequence[RequestStatus | MustBuy | None]:
            return await take_turns(group, self._uow(group[0].context, None), self.deps)

        async def alone(t: Turn) -> RequestStatus | MustBuy:
            return await take_turn(t, self._uow(t.context, None), self.deps)

        return await each_as_alone(turns, together, alone, what="supply commands")
