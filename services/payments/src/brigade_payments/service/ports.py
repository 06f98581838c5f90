"""What the payments use cases need from the world, as protocols: the unit of work and its
repositories, the card provider, the kitchen (for an order the replica lacks), the read side, a
clock and an id source. Adapters implement them (adapters/), unit tests fake them (tests/unit/fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from brigade_common.idempotency import IdempotencyKey, Replay
from brigade_common.messaging import InboxEntry, MessageContext
from brigade_common.transactional import Transactional
from brigade_payments.domain.model import OrderState, Payment, PaymentState

Clock = Callable[[], datetime]
IdSource = Callable[[], str]


class Orders(Protocol):
    """The replica of the kitchen's orders."""

    async def get(self, order_id: str) -> OrderState | None: ...

    def save(self, order: OrderState) -> None:
        """Keep `order`, written at commit; never over a newer version (two snapshots of one order
        handled at once cannot move it backwards)."""


class Payments(Protocol):
    def add(self, payment: Payment) -> None:
        """A new payment, written at commit: the order's one charge (`OrderAlreadyCharged` at commit
        when another payment holds it)."""

    async def get(self, payment_id: str) -> Payment | None:
        """The payment, locked until the unit of work ends (changes are written at commit)."""


class IdempotencyKeys(Protocol):
    async def begin(self, key: IdempotencyKey, resource_id: str) -> Replay | None:
        """None when `key` is new (now claimed for `resource_id`); the first request's result when it
        finished; `RequestInProgress` while it runs; `IdempotencyKeyReused` for another request."""

    async def complete(self, resource_id: str, result: Mapping[str, Any]) -> None:
        """The request that claimed a key for `resource_id` ended with `result` (if one did)."""

    async def release(self, resource_id: str) -> None:
        """The request that claimed a key for `resource_id` failed in a way a retry may cure."""


class PaymentsUnitOfWork(Transactional, Protocol):
    """One transaction: what the use case changes is written, with the messages its events become,
    on `commit`; leaving without a commit undoes everything."""

    @property
    def orders(self) -> Orders: ...

    @property
    def payments(self) -> Payments: ...

    @property
    def idempotency(self) -> IdempotencyKeys: ...

    def mark_processed(self, entry: InboxEntry) -> None:
        """The message `entry` names is done as of this commit (the last step of long work)."""


UnitOfWorkFactory = Callable[[MessageContext, InboxEntry | None], PaymentsUnitOfWork]


@dataclass(frozen=True)
class Approved:
    charge_id: str


@dataclass(frozen=True)
class Declined:
    code: str
    message: str


class PaymentProvider(Protocol):
    """A card processor, Stripe-like: every call carries an id that makes a repeat of it harmless."""

    async def charge(self, attempt_id: str, amount_cents: int, token: str, reference: str) -> Approved | Declined:
        """Charge `amount_cents` to the card behind `token` (`reference`: the order, for the
        statement). The same `attempt_id` again answers what the first call did. Raises
        `ProviderUnavailable` when it could not process the charge this time (nothing taken)."""

    async def refund(self, charge_id: str, amount_cents: int) -> str:
        """Give `amount_cents` of a charge back; the refund's id. Refunding a charge twice refunds it once."""


class Kitchen(Protocol):
    async def order(self, order_id: str) -> OrderState | None:
        """The order as the kitchen holds it now (None: it has no such order); `KitchenUnavailable`
        when it does not answer."""


class Progress(Protocol):
    """The message being worked on: its inbox entry, and a way to say the work goes on."""

    @property
    def inbox(self) -> InboxEntry: ...

    async def keep_alive(self) -> None: ...


class PaymentsViews(Protocol):
    """The read side: what the HTTP API shows, read without a unit of work."""

    async def order(self, order_id: str) -> OrderState | None:
        """The replica's order."""

    async def payment(self, payment_id: str) -> PaymentState | None: ...

    async def payments(
        self, *, customer_id: str | None, order_id: str | None, before: tuple[datetime, str] | None, limit: int
    ) -> list[PaymentState]:
        """Newest first: a customer's (everyone's when None), of one order or all."""

    async def stuck(self, started_before: datetime, limit: int) -> list[str]:
        """Ids of the payments still processing that started before `started_before`, oldest first."""
