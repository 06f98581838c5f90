"""The warehouse as its entrypoints use it: the supply use case with its units of work, and the reads."""

from __future__ import annotations

from brigade_common.messaging import MessageContext
from brigade_warehouse.domain.model import RequestStatus
from brigade_warehouse.service.commands import SupplyIngredient
from brigade_warehouse.service.handlers import Deps, supply_ingredient
from brigade_warehouse.service.ports import Progress, UnitOfWorkFactory, WarehouseUnitOfWork, WarehouseViews


class Warehouse:
    def __init__(self, *, uow: UnitOfWorkFactory, views: WarehouseViews, deps: Deps) -> None:
        self.views = views
        self.deps = deps
        self._uow = uow

    async def supply(self, cmd: SupplyIngredient, *, context: MessageContext, progress: Progress) -> RequestStatus:
        def uow() -> WarehouseUnitOfWork:
            return self._uow(context, None)

        return await supply_ingredient(cmd, uow, self.deps, progress)
