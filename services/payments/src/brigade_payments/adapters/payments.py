"""The `Payment` aggregate in PostgreSQL (`payments`).

A partial unique index on `order_id` over the statuses that are a charge (processing, succeeded,
refunded) is what makes "at most one charge per order" true whatever the concurrency: of twenty
requests racing to claim an order, one insert commits, the others fail on the index (or wait for
the first and then fail), and are told so (`OrderAlreadyCharged`).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from brigade_common.db import is_uuid
from brigade_common.writes import Session, Table
from brigade_payments.domain.events import Event
from brigade_payments.domain.model import Payment, PaymentState, PaymentStatus

ONE_CHARGE_PER_ORDER = "payments_one_charge_per_order"
PAYMENTS = Table.of(
    "payments",
    ("id", "uuid"),
    ("order_id", "uuid"),
    ("customer_id", "text"),
    ("amount_cents", "bigint"),
    ("token", "text"),
    ("status", "text"),
    ("created_at", "timestamptz"),
    ("failure_code", "text"),
    ("failure_message", "text"),
    ("charge_id", "text"),
    ("refund_id", "text"),
    ("refund_reason", "text"),
    key="id",
    on_update="updated_at = now()",
)
CHANGES = PAYMENTS.only("id", "status", "failure_code", "failure_message", "charge_id", "refund_id", "refund_reason")
# The columns of a payment's state, as the read side selects them too.
STATE_COLUMNS = (
    "id::text AS payment_id, order_id::text AS order_id, customer_id, amount_cents, status, created_at, "
    "failure_code, failure_message, refund_reason"
)


def payment_state(row: asyncpg.Record | dict[str, Any]) -> PaymentState:
    return PaymentState(
        row["payment_id"],
        row["order_id"],
        row["customer_id"],
        row["amount_cents"],
        PaymentStatus(row["status"]),
        row["created_at"],
        row["failure_code"],
        row["failure_message"],
        row["refund_reason"],
    )


class PostgresPayments:
    def __init__(self, session: Session) -> None:
        self._session = session
        self.new: list[Payment] = []
        self._loaded: dict[str, tuple[Payment, PaymentStatus]] = {}

    def add(self, payment: Payment) -> None:
        self.new.append(payment)

    async def get(self, payment_id: str) -> Payment | None:
        if payment_id in self._loaded:
            return self._loaded[payment_id][0]
        if not is_uuid(payment_id):
            return None  # a message may name anything: no such payment, rather than a database error
        row = await self._session.fetchrow(
            f"SELECT {STATE_COLUMNS}, token, charge_id, refund_id FROM payments WHERE id = $1::uuid FOR UPDATE",  # noqa: S608
            payment_id,
        )
        if row is None:
            return None
        state = payment_state(row)
        payment = Payment(
            state.payment_id,
            state.order_id,
            state.customer_id,
            state.amount_cents,
            row["token"],
            state.created_at,
            state.status,
            state.failure_code,
            state.failure_message,
            row["charge_id"],
            row["refund_id"],
            state.refund_reason,
        )
        self._loaded[payment.id] = (payment, payment.status)
        return payment

    def persist(self) -> list[Event]:
        """Buffer what changed; the events the payments recorded, in order."""
        buffer = self._session.buffer
        events: list[Event] = []
        for p in self.new:
            buffer.insert(
                PAYMENTS,
                (
                    p.id,
                    p.order_id,
                    p.customer_id,
                    p.amount_cents,
                    p.token,
                    p.status.value,
                    p.created_at,
                    p.failure_code,
                    p.failure_message,
                    p.charge_id,
                    p.refund_id,
                    p.refund_reason,
                ),
            )
            events += _take_events(p)
        for p, status in self._loaded.values():
            if p.status is not status:
                row = (
                    p.id,
                    p.status.value,
                    p.failure_code,
                    p.failure_message,
                    p.charge_id,
                    p.refund_id,
                    p.refund_reason,
                )
                buffer.update(CHANGES, row)
            events += _take_events(p)
        self.new.clear()
        self._loaded.clear()
        return events


def _take_events(payment: Payment) -> list[Event]:
    events, payment.events = payment.events, []
    return events
