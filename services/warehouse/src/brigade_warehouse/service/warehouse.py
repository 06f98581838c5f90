"""The warehouse as its entrypoints use it: the supply use case with its units of work, and the reads.

The first step of a supply command (register the request, deliver it from stock when the stock covers
it) runs at most N at once per process (`brigade_common.admission`); the commands that come meanwhile
take it together in the next transaction. A request that must buy then goes on alone, at the market.
"""

from __future__ import annotations

from collections.abc import Sequence

from brigade_common.admission import Admission, each_as_alone
from brigade_common.messaging import InboxEntry, MessageContext
from brigade_warehouse.domain.model import RequestStatus
from brigade_warehouse.service.commands import SupplyIngredient
from brigade_warehouse.service.handlers import Deps, MustBuy, open_requests, supply_ingredient
from brigade_warehouse.service.ports import Progress, UnitOfWorkFactory, WarehouseUnitOfWork, WarehouseViews

Job = tuple[SupplyIngredient, MessageContext, InboxEntry]


class Warehouse:
    def __init__(
        self, *, uow: UnitOfWorkFactory, views: WarehouseViews, deps: Deps, max_concurrent_openings: int = 0
    ) -> None:
        self.views = views
        self.deps = deps
        self._uow = uow
        self._openings: Admission[Job, RequestStatus | MustBuy | None] = Admission(
            max_concurrent_openings, self._open_group
        )

    @property
    def supplies_waiting(self) -> int:
        """Supply commands waiting for a first-step transaction."""
        return self._openings.waiting

    async def supply(self, cmd: SupplyIngredient, *, context: MessageContext, progress: Progress) -> RequestStatus:
        def uow() -> WarehouseUnitOfWork:
            return self._uow(context, None)

        opened = await self._openings.submit((cmd, context, progress.inbox))
        if isinstance(opened, RequestStatus):
            return opened
        return await supply_ingredient(cmd, uow, self.deps, progress, opened=opened)

    async def _open_group(self, jobs: Sequence[Job]) -> list[RequestStatus | MustBuy | BaseException | None]:
        """The first step of the commands together; when the group's transaction fails, each command's
        first step then runs in a transaction of its own, and gets the outcome it would have had."""

        async def together(group: Sequence[Job]) -> Sequence[RequestStatus | MustBuy | None]:
            return await open_requests(group, self._uow(group[0][1], None), self.deps)

        async def alone(job: Job) -> RequestStatus | MustBuy | None:
            return (await together([job]))[0]

        return await each_as_alone(jobs, together, alone, what="supply commands")
