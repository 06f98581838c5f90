"""The payments model: an order as the replica knows it, and the `Payment` aggregate.

A payment is one attempt to charge an order's price to a customer's card. It is created
`processing` (the order's one charge is claimed: the database refuses a second one whatever the
concurrency), then the provider's answer settles it: `succeeded` or `failed` (declined, or the
provider could not process it: nothing taken, the order stays payable). A succeeded payment the
kitchen could not serve with is `refunded`. Its methods check each transition and record the
events they cause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from brigade_contracts.kitchen import OrderStatus
from brigade_payments.domain.errors import InvalidPaymentTransition, OrderNotPayable, UnknownOrder
from brigade_payments.domain.events import Event, PaymentFailed, PaymentRefunded, PaymentSucceeded


class PaymentStatus(StrEnum):
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class OrderState:
    """An order as the replica holds it: what paying for it needs. Each snapshot is the whole order,
    so a newer one replaces an older one outright, whatever came between."""

    order_id: str
    customer_id: str
    total_cents: int
    status: OrderStatus
    version: int

    def supersedes(self, held: OrderState | None) -> bool:
        """Whether this snapshot replaces `held`: it is newer. An older or equal one (a duplicate,
        a redelivery, one overtaken by a later change) changes nothing, so the replica never moves
        backwards; a missing version in between lost nothing, the newer snapshot has it all."""
        return held is None or self.version > held.version


@dataclass(frozen=True)
class PaymentState:
    """A payment as the API shows it and as an idempotent request replays it."""

    payment_id: str
    order_id: str
    customer_id: str
    amount_cents: int
    status: PaymentStatus
    created_at: datetime
    failure_code: str | None = None
    failure_message: str | None = None
    refund_reason: str | None = None


@dataclass(eq=False)
class Payment:
    id: str
    order_id: str
    customer_id: str
    amount_cents: int
    # What the provider charges (a test token of the sandbox): kept so that a charge whose request
    # died can be asked about again, with the same attempt id.
    token: str
    created_at: datetime
    status: PaymentStatus = PaymentStatus.PROCESSING
    failure_code: str | None = None
    failure_message: str | None = None
    charge_id: str | None = None
    refund_id: str | None = None
    refund_reason: str | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    @classmethod
    def start(cls, payment_id: str, order: OrderState, payer: str, token: str, now: datetime) -> Payment:
        """A charge of `order`'s price (never an amount the client names) for its customer. Only the
        customer pays for their order; only a reserved order can be paid for."""
        if order.customer_id != payer:
            raise UnknownOrder(order.order_id)
        if order.status is not OrderStatus.RESERVED:
            raise OrderNotPayable(order.order_id, order.status)
        return cls(payment_id, order.order_id, payer, order.total_cents, token, now)

    def succeed(self, charge_id: str) -> None:
        self._leave_processing(PaymentStatus.SUCCEEDED)
        self.charge_id = charge_id
        self.events.append(PaymentSucceeded(self.id, self.order_id, self.customer_id, self.amount_cents))

    def fail(self, code: str, message: str) -> None:
        """Declined, or not processed: nothing was taken, and the order's charge is free again."""
        self._leave_processing(PaymentStatus.FAILED)
        self.failure_code, self.failure_message = code, message
        self.events.append(PaymentFailed(self.id, self.order_id, self.customer_id, self.amount_cents, message, code))

    def refund(self, refund_id: str, reason: str) -> bool:
        """The money went back (the kitchen could not serve the order); False when it had already."""
        if self.status is PaymentStatus.REFUNDED:
            return False
        if self.status is not PaymentStatus.SUCCEEDED:
            raise InvalidPaymentTransition(self.status, PaymentStatus.REFUNDED)
        self.status = PaymentStatus.REFUNDED
        self.refund_id, self.refund_reason = refund_id, reason
        self.events.append(PaymentRefunded(self.id, self.order_id, self.customer_id, self.amount_cents, reason))
        return True

    def state(self) -> PaymentState:
        return PaymentState(
            self.id,
            self.order_id,
            self.customer_id,
            self.amount_cents,
            self.status,
            self.created_at,
            self.failure_code,
            self.failure_message,
            self.refund_reason,
        )

    def _leave_processing(self, status: PaymentStatus) -> None:
        if self.status is not PaymentStatus.PROCESSING:
            raise InvalidPaymentTransition(self.status, status)
        self.status = status
