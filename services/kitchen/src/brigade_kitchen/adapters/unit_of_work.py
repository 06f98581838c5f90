"""The kitchen's unit of work on PostgreSQL: its repositories on one transaction (brigade_common's
`UnitOfWork`: write buffer, outbox, inbox), and the messages its events become at commit."""

from __future__ import annotations

from brigade_common.idempotency import IdempotencyKey, claim_key
from brigade_common.messaging import Outgoing
from brigade_common.unit_of_work import UnitOfWork
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


class PostgresKitchenUnitOfWork(UnitOfWork[Event]):
    orders: PostgresOrders
    dishes: PostgresDishes
    pantry: PostgresPantry
    idempotency: PostgresIdempotencyKeys

    def open(self, session: Session) -> None:
        self.orders = PostgresOrders(session)
        self.dishes = PostgresDishes(session)
        self.pantry = PostgresPantry(session)
        self.idempotency = PostgresIdempotencyKeys(session)

    def persist(self) -> list[Event]:
        return self.orders.persist()

    def to_message(self, event: Event) -> Outgoing:
        return outgoing(event)
