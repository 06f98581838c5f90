"""The kitchen's unit of work on PostgreSQL: its repositories on one transaction (brigade_common's
`Transaction`: write buffer, outbox, inbox), and the messages its events become at commit."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

import asyncpg

from brigade_common.idempotency import IdempotencyKey, claim_key
from brigade_common.messaging import InboxEntry, MessageContext
from brigade_common.unit_of_work import Transaction
from brigade_common.writes import Session
from brigade_kitchen.adapters.dishes import PostgresDishes
from brigade_kitchen.adapters.messages import outgoing
from brigade_kitchen.adapters.orders import PostgresOrders
from brigade_kitchen.adapters.pantry import PostgresPantry
from brigade_kitchen.domain.events import Event


class PostgresIdempotencyKeys:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def claim(self, key: IdempotencyKey, resource_id: str) -> str | None:
        return await claim_key(self._session, key, resource_id=resource_id)


class PostgresKitchenUnitOfWork:
    orders: PostgresOrders
    dishes: PostgresDishes
    pantry: PostgresPantry
    idempotency: PostgresIdempotencyKeys

    def __init__(
        self,
        pool: asyncpg.Pool,
        context: MessageContext,
        inbox: InboxEntry | None = None,
        *,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._tx = Transaction(pool, context=context, inbox=inbox, on_commit=on_commit)
        self._recorded: list[Event] = []

    async def __aenter__(self) -> PostgresKitchenUnitOfWork:
        await self._tx.__aenter__()
        session = self._tx.session
        self.orders = PostgresOrders(session)
        self.dishes = PostgresDishes(session)
        self.pantry = PostgresPantry(session)
        self.idempotency = PostgresIdempotencyKeys(session)
        return self

    def record(self, event: Event) -> None:
        self._recorded.append(event)

    async def commit(self) -> None:
        events = [*self.orders.persist(), *self._recorded]
        self._recorded.clear()
        await self._tx.commit(outgoing(e) for e in events)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._tx.__aexit__(exc_type, exc, tb)


def unit_of_work_factory(
    pool: asyncpg.Pool, *, on_commit: Callable[[], None]
) -> Callable[[MessageContext, InboxEntry | None], PostgresKitchenUnitOfWork]:
    def make(context: MessageContext, inbox: InboxEntry | None) -> PostgresKitchenUnitOfWork:
        return PostgresKitchenUnitOfWork(pool, context, inbox, on_commit=on_commit)

    return make
