"""The warehouse's unit of work on PostgreSQL: its repositories on one transaction (brigade_common's
`Transaction`), and the messages its events become at commit."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

import asyncpg

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_common.unit_of_work import Transaction
from brigade_warehouse.adapters.messages import outgoing
from brigade_warehouse.adapters.requests import PostgresRequests
from brigade_warehouse.adapters.stock import PostgresPurchases, PostgresStock
from brigade_warehouse.domain.events import Event


class PostgresWarehouseUnitOfWork:
    requests: PostgresRequests
    stock: PostgresStock
    purchases: PostgresPurchases

    def __init__(self, pool: asyncpg.Pool, context: MessageContext, *, on_commit: Callable[[], None]) -> None:
        self._tx = Transaction(pool, context=context, on_commit=on_commit)
        self._recorded: list[Event] = []

    async def __aenter__(self) -> PostgresWarehouseUnitOfWork:
        await self._tx.__aenter__()
        session = self._tx.session
        self.requests = PostgresRequests(session)
        self.stock = PostgresStock(session)
        self.purchases = PostgresPurchases(session)
        return self

    def record(self, event: Event) -> None:
        self._recorded.append(event)

    def mark_processed(self, entry: InboxEntry) -> None:
        self._tx.mark_processed(entry)

    async def commit(self) -> None:
        events = [*self._recorded, *self.requests.persist()]
        self._recorded.clear()
        await self._tx.commit(outgoing(e) for e in events)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._tx.__aexit__(exc_type, exc, tb)


def unit_of_work_factory(
    pool: asyncpg.Pool, *, on_commit: Callable[[], None]
) -> Callable[[MessageContext], PostgresWarehouseUnitOfWork]:
    def make(context: MessageContext) -> PostgresWarehouseUnitOfWork:
        return PostgresWarehouseUnitOfWork(pool, context, on_commit=on_commit)

    return make
