"""The warehouse's unit of work on PostgreSQL: its repositories on one transaction (brigade_common's
`UnitOfWork`), and the messages its events become at commit."""

from __future__ import annotations

from brigade_common.messaging import Outgoing
from brigade_common.unit_of_work import UnitOfWork
from brigade_common.writes import Session
from brigade_warehouse.adapters.messages import outgoing
from brigade_warehouse.adapters.requests import PostgresRequests
from brigade_warehouse.adapters.stock import PostgresPurchases, PostgresStock
from brigade_warehouse.domain.events import Event


class PostgresWarehouseUnitOfWork(UnitOfWork[Event]):
    requests: PostgresRequests
    stock: PostgresStock
    purchases: PostgresPurchases

    def open(self, session: Session) -> None:
        self.requests = PostgresRequests(session)
        self.stock = PostgresStock(session)
        self.purchases = PostgresPurchases(session)

    def persist(self) -> list[Event]:
        return self.requests.persist()

    def to_message(self, event: Event) -> Outgoing:
        return outgoing(event)
