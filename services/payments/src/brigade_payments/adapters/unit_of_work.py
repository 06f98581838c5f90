"""The payments service's unit of work on PostgreSQL: its repositories on one transaction
(brigade_common's `UnitOfWork`: write buffer, outbox, inbox), and the messages its events become."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from brigade_common.idempotency import IdempotencyKey, Replay, begin_key, complete_key, release_key
from brigade_common.messaging import Outgoing
from brigade_common.unit_of_work import UnitOfWork
from brigade_common.writes import Session
from brigade_payments.adapters.messages import outgoing
from brigade_payments.adapters.orders import PostgresOrders
from brigade_payments.adapters.payments import ONE_CHARGE_PER_ORDER, PostgresPayments
from brigade_payments.domain.errors import OrderAlreadyCharged
from brigade_payments.domain.events import Event


class PostgresIdempotencyKeys:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def begin(self, key: IdempotencyKey, resource_id: str) -> Replay | None:
        return await begin_key(self._session, key, resource_id=resource_id)

    async def complete(self, resource_id: str, result: Mapping[str, Any]) -> None:
        await complete_key(self._session, resource_id, result)

    async def release(self, resource_id: str) -> None:
        await release_key(self._session, resource_id)


class PostgresPaymentsUnitOfWork(UnitOfWork[Event]):
    orders: PostgresOrders
    payments: PostgresPayments
    idempotency: PostgresIdempotencyKeys

    def open(self, session: Session) -> None:
        self.orders = PostgresOrders(session)
        self.payments = PostgresPayments(session)
        self.idempotency = PostgresIdempotencyKeys(session)

    def persist(self) -> list[Event]:
        return self.payments.persist()

    def to_message(self, event: Event) -> Outgoing:
        return outgoing(event)

    async def commit(self) -> None:
        new = [p.order_id for p in self.payments.new]
        try:
            await super().commit()
        except asyncpg.UniqueViolationError as exc:
            # Another payment holds the order's one charge: the index said so, at commit.
            if exc.constraint_name == ONE_CHARGE_PER_ORDER and new:
                raise OrderAlreadyCharged(new[0]) from None
            raise
