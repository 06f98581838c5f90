"""The warehouse's unit of work on PostgreSQL: its repositories on one transaction (brigade_common's
`UnitOfWork`), and the messages its events become at commit (each request's in its own command's
context when the unit of work serves several: `speak_for`)."""

from __future__ import annotations

from prometheus_client import Gauge, Histogram

from brigade_common.messaging import MessageContext, Outgoing
from brigade_common.unit_of_work import UnitOfWork
from brigade_common.writes import Session
from brigade_warehouse.adapters.messages import outgoing
from brigade_warehouse.adapters.requests import PostgresRequests
from brigade_warehouse.adapters.stock import Ledger, PostgresPurchases, PostgresStock
from brigade_warehouse.domain.events import Event

SUPPLIES_WAITING = Gauge(
    "warehouse_supplies_waiting",
    "Supply commands waiting for a stock transaction: every one that may run at once, runs.",
)
OPENED_TOGETHER = Histogram(
    "warehouse_supplies_opened_together",
    "Supply requests registered by one transaction (the commands that came while the others ran go together).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
PURCHASES_TOGETHER = Histogram(
    "warehouse_purchases_stocked_together",
    "Market purchases recorded and stocked by one transaction (those made while the others ran go together).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)


class PostgresWarehouseUnitOfWork(UnitOfWork[Event]):
    requests: PostgresRequests
    stock: PostgresStock
    purchases: PostgresPurchases

    def open(self, session: Session) -> None:
        self.requests = PostgresRequests(session)
        self._ledger = Ledger(session)
        self.stock = PostgresStock(session, self._ledger)
        self.purchases = PostgresPurchases(self._ledger)
        self._contexts: dict[str, MessageContext] = {}  # per request, when several are served

    async def commit(self) -> None:
        opened, bought = self.requests.opened, self.purchases.recorded
        for event in await self._ledger.write():  # the moves and purchases, in one statement
            self.record(event)
        await super().commit()
        if opened:
            OPENED_TOGETHER.observe(opened)
        if bought:
            PURCHASES_TOGETHER.observe(bought)

    def speak_for(self, request_id: str, context: MessageContext) -> None:
        self._contexts[request_id] = context

    def persist(self) -> list[Event]:
        return self.requests.persist()

    def to_message(self, event: Event) -> Outgoing:
        return outgoing(event)

    def context_of(self, event: Event) -> MessageContext | None:
        request_id: str | None = getattr(event, "request_id", None)
        return self._contexts.get(request_id) if request_id and self._contexts else None
