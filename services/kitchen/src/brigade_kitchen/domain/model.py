"""The kitchen's model: dishes, pantry balances, and the `Order` aggregate with its state machine.

An order holds its lines (what each ingredient needs and how much of the pantry is held for it) and
its supply requests (what the warehouse was asked for). Its methods are the only way its state
changes: each checks the transition, bumps `version` and records the events it causes. What the
pantry must do in turn (hold, release, consume) is returned to the use case, which owns the pantry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from brigade_contracts.kitchen import OrderStatus, PantryReason, StepKind
from brigade_kitchen.domain.errors import ExpiryNotDue, InvalidTransition, UnknownSupplyRequest
from brigade_kitchen.domain.events import (
    Event,
    ExpiryScheduled,
    OrderChanged,
    OrderState,
    PantryMoved,
    PaymentRefused,
    StepTaken,
    SupplyRequested,
)
from brigade_kitchen.domain.journey import delivered_key, purchase_key, requested_key, supply_failed_key

MAX_QUANTITY = 100

# Which state may follow which; a state with no entry is terminal.
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.RESERVED, OrderStatus.CANCELLED, OrderStatus.FAILED}),
    OrderStatus.RESERVED: frozenset({OrderStatus.SERVED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}),
}
TERMINAL: frozenset[OrderStatus] = frozenset(s for s in OrderStatus if s not in TRANSITIONS)

Holds = dict[str, int]  # ingredient → units of the pantry's `reserved`


@dataclass(frozen=True)
class Dish:
    id: str
    name: str
    description: str
    image_url: str | None
    price_cents: int
    version: int
    recipe: Mapping[str, int]


@dataclass(frozen=True)
class Balance:
    """An ingredient's row of the pantry; `version` grows by one with every change of the row."""

    ingredient: str
    on_hand: int
    reserved: int
    version: int = 0

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


@dataclass(frozen=True)
class Move:
    """A change of what the pantry has on hand: a row of its ledger (and of what it holds, `hold_delta`)."""

    ingredient: str
    delta: int
    reason: PantryReason
    order_id: str | None
    hold_delta: int = 0

    def applied_to(self, row: Balance) -> Balance:
        return Balance(row.ingredient, row.on_hand + self.delta, row.reserved + self.hold_delta, row.version + 1)

    def moved(self, movement_id: int, after: Balance, at: datetime) -> PantryMoved:
        """The event of this move, as its ledger row `movement_id` and the row after it."""
        return PantryMoved(
            movement_id,
            self.ingredient,
            self.delta,
            self.reason,
            after.on_hand,
            after.reserved,
            self.order_id,
            after.version,
            at,
        )


def requirements(recipe: Mapping[str, int], quantity: int) -> dict[str, int]:
    """Units of each ingredient an order of `quantity` dishes needs."""
    return {ingredient: per_dish * quantity for ingredient, per_dish in recipe.items()}


def deadline(now: datetime, window_s: float) -> datetime:
    """`window_s` from `now` in whole seconds (schedules fire at second resolution), never sooner."""
    return (now + timedelta(seconds=window_s)).replace(microsecond=0) + timedelta(seconds=1)


@dataclass(frozen=True)
class Deadlines:
    """How long an order waits in each state that waits: a pending order for the warehouse, a
    reserved one for its payment. Past it, the order is settled (failed, expired) and lets go."""

    supply_s: float
    payment_s: float


@dataclass
class Line:
    """What the order needs of one ingredient, and how much of the pantry is held for it."""

    ingredient: str
    needed: int
    reserved: int = 0

    @property
    def missing(self) -> int:
        return self.needed - self.reserved


class SupplyStatus(StrEnum):
    REQUESTED = "requested"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass
class SupplyRequest:
    """What the warehouse was asked to deliver for one line; settled exactly once."""

    id: str
    ingredient: str
    amount: int
    status: SupplyStatus = SupplyStatus.REQUESTED


@dataclass(frozen=True)
class Payment:
    """A successful charge for an order, as the payments service reports it."""

    payment_id: str
    customer_id: str
    amount_cents: int


@dataclass(eq=False)
class Order:
    id: str
    customer_id: str
    dish_id: str
    dish_name: str
    quantity: int
    total_cents: int
    status: OrderStatus = OrderStatus.PENDING
    version: int = 1
    expires_at: datetime | None = None
    reason: str | None = None
    # The payment it was served for: a copy of that payment is not a second one to refuse.
    payment_id: str | None = None
    # When it was placed and when it last changed: the times of the commits that stored it, stamped
    # when it is stored (as its journey's steps are); None until it first is.
    created_at: datetime | None = None
    updated_at: datetime | None = None
    lines: dict[str, Line] = field(default_factory=dict)
    supply: dict[str, SupplyRequest] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list, repr=False)

    # ---------------------------------------------------------------------------------- placing

    @classmethod
    def place(
        cls,
        order_id: str,
        customer_id: str,
        dish: Dish,
        quantity: int,
        pantry: Mapping[str, Balance],
        *,
        new_request_id: Callable[[], str],
        now: datetime,
        deadlines: Deadlines,
    ) -> Order:
        """A new order: hold what the pantry has available, request the rest from the warehouse,
        and reserve at once when nothing is missing; else it waits for the warehouse until its
        supply deadline. `pantry` holds a balance per ingredient."""
        order = cls(order_id, customer_id, dish.id, dish.name, quantity, dish.price_cents * quantity)
        order._record_state()
        for ingredient, needed in sorted(requirements(dish.recipe, quantity).items()):
            line = Line(ingredient, needed, min(needed, pantry[ingredient].available))
            order.lines[ingredient] = line
            if line.missing:
                req = SupplyRequest(new_request_id(), ingredient, line.missing)
                order.supply[req.id] = req
                order.events.append(SupplyRequested(req.id, order.id, ingredient, req.amount))
                order._step(requested_key(req.id), StepKind.REQUESTED, ingredient, req.amount)
        if order.covered:
            order._reserve(now, deadlines)
        else:
            order.expires_at = deadline(now, deadlines.supply_s)
            order.events.append(ExpiryScheduled(order.id, order.expires_at))
        return order

    @property
    def covered(self) -> bool:
        """Every line is held in full."""
        return all(not line.missing for line in self.lines.values())

    @property
    def holds(self) -> Holds:
        """What the pantry holds for this order, per ingredient."""
        return {ln.ingredient: ln.reserved for ln in self.lines.values() if ln.reserved}

    # --------------------------------------------------------------------------------- the saga

    def receive(self, request_id: str, amount: int, *, now: datetime, deadlines: Deadlines) -> int | None:
        """A delivery for one of this order's supply requests: how much of it to hold for the order
        (0 when the order no longer waits: the delivery only stocks the pantry), or None when that
        request was settled already (a second delivery must change nothing)."""
        req = self._open_request(request_id)
        if req is None:
            return None
        req.status = SupplyStatus.DELIVERED
        if self.status is not OrderStatus.PENDING:
            detail = f"the order was {self.status.value}: it only stocked the pantry"
            self._step(delivered_key(request_id), StepKind.DELIVERED, req.ingredient, amount, detail)
            return 0
        self._step(delivered_key(request_id), StepKind.DELIVERED, req.ingredient, amount)
        line = self.lines[req.ingredient]
        hold = min(amount, line.missing)
        line.reserved += hold
        if self.covered:
            self._reserve(now, deadlines)
        return hold

    def supply_failed(self, request_id: str, reason: str) -> Holds | None:
        """The warehouse gave up on a request: a waiting order fails and lets go of its holds
        (returned). None when that request was settled already."""
        req = self._open_request(request_id)
        if req is None:
            return None
        req.status = SupplyStatus.FAILED
        self._step(supply_failed_key(request_id), StepKind.SUPPLY_FAILED, req.ingredient, req.amount, reason)
        if self.status is not OrderStatus.PENDING:
            return {}
        released = self._release()
        self._become(OrderStatus.FAILED, reason=f"could not get {req.amount} {req.ingredient}: {reason}")
        return released

    def purchased(self, request_id: str, purchase_id: int, received: int, supplier: str, at: datetime) -> None:
        """The warehouse bought `received` units at the market for one of this order's requests (at
        `at`, its time): a step of the journey, whatever the order's state (the purchase happened)."""
        req = self.supply.get(request_id)
        if req is None:
            raise UnknownSupplyRequest(request_id)
        self._step(purchase_key(purchase_id), StepKind.PURCHASED, req.ingredient, received, supplier, at=at)

    def serve(self, payment: Payment) -> Holds | None:
        """Paid: the held ingredients are consumed (returned) and the order is served. A payment the
        order cannot take is refused instead (`PaymentRefused`: payments gives the money back) and
        None returned: the order is no longer reserved (expired, cancelled, failed, or served by
        another payment), or the payment is not its customer's, for its price. The payment it was
        served for, seen again, changes nothing (None)."""
        if self.status is OrderStatus.SERVED and self.payment_id == payment.payment_id:
            return None
        refusal = self._refusal(payment)
        if refusal is not None:
            self.events.append(
                PaymentRefused(
                    payment.payment_id, self.id, payment.customer_id, payment.amount_cents, self.status, refusal
                )
            )
            return None
        consumed = self._release()
        self.payment_id = payment.payment_id
        self._become(OrderStatus.SERVED)
        return consumed

    def _refusal(self, payment: Payment) -> str | None:
        if self.status is not OrderStatus.RESERVED:
            why = f" ({self.reason})" if self.reason and self.status is not OrderStatus.SERVED else ""
            return f"the order was {self.status.value}{why} when the payment reached the kitchen"
        if payment.customer_id != self.customer_id:
            return "the payment is not the order's customer's"
        if payment.amount_cents != self.total_cents:
            return f"the payment of {payment.amount_cents} cents is not the order's price ({self.total_cents})"
        return None

    def expire(self, now: datetime, scheduled_for: datetime | None = None) -> Holds | None:
        """The order's deadline: still unpaid, it expires; still waiting for the warehouse, it fails.
        Either way it lets go of its holds (returned). None when it no longer waits, or when
        `scheduled_for` (the deadline a scheduled check was set for) is not its deadline any more
        (the pending order was reserved meanwhile); `ExpiryNotDue` before its deadline."""
        if self.status not in TRANSITIONS:
            return None
        if scheduled_for is not None and self.expires_at != scheduled_for:
            return None
        if self.expires_at is not None and self.expires_at > now:
            raise ExpiryNotDue(self.id)
        released = self._release()
        if self.status is OrderStatus.RESERVED:
            self._become(OrderStatus.EXPIRED, reason="not paid in time")
        else:
            self._become(OrderStatus.FAILED, reason="the warehouse did not deliver in time")
        return released

    def cancel(self, by: str) -> Holds | None:
        """Cancel a pending or reserved order; its holds go back (returned). None when it was
        cancelled already (cancelling twice is harmless); `InvalidTransition` once it is settled."""
        if self.status is OrderStatus.CANCELLED:
            return None
        self._check(OrderStatus.CANCELLED)
        released = self._release()
        self._become(OrderStatus.CANCELLED, reason=f"cancelled by {by}")
        return released

    # -------------------------------------------------------------------------------- internals

    def state(self) -> OrderState:
        return OrderState(
            self.id,
            self.customer_id,
            self.dish_id,
            self.dish_name,
            self.quantity,
            self.total_cents,
            self.status,
            self.version,
            self.expires_at,
            self.reason,
        )

    def _open_request(self, request_id: str) -> SupplyRequest | None:
        req = self.supply.get(request_id)
        if req is None:
            raise UnknownSupplyRequest(request_id)
        return req if req.status is SupplyStatus.REQUESTED else None

    def _reserve(self, now: datetime, deadlines: Deadlines) -> None:
        self._become(OrderStatus.RESERVED, expires_at=deadline(now, deadlines.payment_s))
        assert self.expires_at is not None
        self.events.append(ExpiryScheduled(self.id, self.expires_at))

    def _release(self) -> Holds:
        released = self.holds
        for line in self.lines.values():
            line.reserved = 0
        return released

    def _check(self, wanted: OrderStatus) -> None:
        if wanted not in TRANSITIONS.get(self.status, frozenset()):
            raise InvalidTransition(self.status, wanted)

    def _become(self, status: OrderStatus, *, expires_at: datetime | None = None, reason: str | None = None) -> None:
        self._check(status)
        self.status = status
        self.version += 1
        if expires_at is not None:
            self.expires_at = expires_at
        if reason is not None:
            self.reason = reason
        self._record_state()

    def _record_state(self) -> None:
        self.events.append(OrderChanged(self.state()))

    def _step(
        self,
        key: str,
        kind: StepKind,
        ingredient: str,
        amount: int,
        detail: str | None = None,
        *,
        at: datetime | None = None,
    ) -> None:
        self.events.append(StepTaken(self.id, self.customer_id, key, kind, ingredient, amount, detail, at))
