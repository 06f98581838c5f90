"""The Order aggregate: its state machine, what it holds, and the events it records. Pure."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from brigade_contracts.kitchen import OrderStatus, PantryReason
from brigade_kitchen.domain.errors import ExpiryNotDue, InvalidTransition, UnknownSupplyRequest
from brigade_kitchen.domain.events import ExpiryScheduled, OrderChanged, PaymentRefused, SupplyRequested
from brigade_kitchen.domain.menu import todays_menu
from brigade_kitchen.domain.model import (
    TERMINAL,
    TRANSITIONS,
    Balance,
    Deadlines,
    Dish,
    Order,
    Payment,
    deadline,
    requirements,
)
from services.kitchen.tests.unit.fakes import Ids

NOW = datetime(2026, 12, 1, 12, 0, 0, 250_000, tzinfo=UTC)
DEADLINES = Deadlines(supply_s=60, payment_s=900)
SALAD = Dish("ensalada-cesar", "Ensalada Cesar", "", None, 850, 1, {"lechuga": 5, "pollo": 2})
PAID = Payment("pay-1", "alice", 850)


def pantry(**stock: int | tuple[int, int]) -> dict[str, Balance]:
    out = {}
    for name, value in stock.items():
        on_hand, reserved = value if isinstance(value, tuple) else (value, 0)
        out[name] = Balance(name, on_hand, reserved)
    return out


def place(stock: dict[str, Balance], quantity: int = 1) -> Order:
    return Order.place("o1", "alice", SALAD, quantity, stock, new_request_id=Ids(), now=NOW, deadlines=DEADLINES)


def statuses(order: Order) -> list[OrderStatus]:
    return [e.order.status for e in order.events if isinstance(e, OrderChanged)]


def test_requirements_scale_the_recipe_by_quantity() -> None:
    assert requirements({"lechuga": 5, "pollo": 2}, 3) == {"lechuga": 15, "pollo": 6}


def test_an_order_the_pantry_covers_is_reserved_at_once_with_its_expiry_scheduled() -> None:
    order = place(pantry(lechuga=10, pollo=2))
    assert order.status is OrderStatus.RESERVED and order.version == 2
    assert order.holds == {"lechuga": 5, "pollo": 2}
    assert order.total_cents == 850
    assert statuses(order) == [OrderStatus.PENDING, OrderStatus.RESERVED]
    assert order.events[-1] == ExpiryScheduled("o1", deadline(NOW, 900))
    assert not [e for e in order.events if isinstance(e, SupplyRequested)]


def test_a_short_pantry_holds_what_is_available_and_requests_the_rest() -> None:
    # seed 000: lechuga 4 for a salad that needs 5; others' holds are not available.
    order = place(pantry(lechuga=4, pollo=(3, 2)))
    assert order.status is OrderStatus.PENDING and order.version == 1
    assert order.holds == {"lechuga": 4, "pollo": 1}
    requested = [(e.ingredient, e.amount) for e in order.events if isinstance(e, SupplyRequested)]
    assert requested == [("lechuga", 1), ("pollo", 1)]
    # It waits for the warehouse until its supply deadline, and its check is scheduled.
    assert order.expires_at == deadline(NOW, 60)
    assert order.events[-1] == ExpiryScheduled("o1", deadline(NOW, 60))
    assert {r.ingredient: r.amount for r in order.supply.values()} == {"lechuga": 1, "pollo": 1}


def test_the_last_delivery_reserves_the_order_and_a_second_one_changes_nothing() -> None:
    order = place(pantry(lechuga=4, pollo=0))
    first, second = (r.id for r in sorted(order.supply.values(), key=lambda r: r.ingredient))
    assert order.receive(first, 3, now=NOW, deadlines=DEADLINES) == 1  # only 1 was missing: 2 just stock
    assert order.status is OrderStatus.PENDING
    assert order.receive(second, 2, now=NOW, deadlines=DEADLINES) == 2
    assert order.status is OrderStatus.RESERVED and order.holds == {"lechuga": 5, "pollo": 2}
    assert order.receive(second, 2, now=NOW, deadlines=DEADLINES) is None


def test_a_delivery_for_an_order_that_stopped_waiting_only_stocks_the_pantry() -> None:
    order = place(pantry(lechuga=0, pollo=0))
    lechuga = next(r.id for r in order.supply.values() if r.ingredient == "lechuga")
    pollo = next(r.id for r in order.supply.values() if r.ingredient == "pollo")
    assert order.supply_failed(lechuga, "market closed") == {}
    assert order.status is OrderStatus.FAILED
    assert order.reason == "could not get 5 lechuga: market closed"
    assert order.receive(pollo, 2, now=NOW, deadlines=DEADLINES) == 0


def test_a_failed_supply_releases_what_the_order_held() -> None:
    order = place(pantry(lechuga=4, pollo=2))
    [lechuga] = order.supply
    assert order.supply_failed(lechuga, "market closed") == {"lechuga": 4, "pollo": 2}
    assert order.holds == {}
    assert order.supply_failed(lechuga, "again") is None


def test_an_unknown_supply_request_is_refused() -> None:
    with pytest.raises(UnknownSupplyRequest):
        place(pantry(lechuga=4, pollo=2)).receive("nope", 1, now=NOW, deadlines=DEADLINES)


def refusals(order: Order) -> list[PaymentRefused]:
    return [e for e in order.events if isinstance(e, PaymentRefused)]


def test_serving_consumes_the_holds_once_and_the_same_payment_again_changes_nothing() -> None:
    order = place(pantry(lechuga=5, pollo=2))
    assert order.serve(PAID) == {"lechuga": 5, "pollo": 2}
    assert order.status is OrderStatus.SERVED and order.holds == {} and order.payment_id == "pay-1"
    version = order.version
    assert order.serve(PAID) is None
    assert order.version == version and refusals(order) == []


def test_a_payment_the_order_cannot_take_is_refused_with_the_reason() -> None:
    """Seed 001 let a payment for a cancelled or completed order through; here it is refused, and
    the refusal is what makes payments give the money back."""
    served = place(pantry(lechuga=5, pollo=2))
    served.serve(PAID)
    assert served.serve(Payment("pay-2", "alice", 850)) is None
    expired = place(pantry(lechuga=5, pollo=2))
    assert expired.expires_at is not None
    expired.expire(expired.expires_at)
    assert expired.serve(PAID) is None and expired.status is OrderStatus.EXPIRED
    reserved = place(pantry(lechuga=5, pollo=2))
    assert reserved.serve(Payment("pay-3", "alice", 1)) is None
    assert reserved.serve(Payment("pay-4", "mallory", 850)) is None
    assert reserved.status is OrderStatus.RESERVED and reserved.holds == {"lechuga": 5, "pollo": 2}
    got = [(r.payment_id, r.order_status, r.reason) for r in refusals(served) + refusals(expired) + refusals(reserved)]
    assert got == [
        ("pay-2", OrderStatus.SERVED, "the order was served when the payment reached the kitchen"),
        ("pay-1", OrderStatus.EXPIRED, "the order was expired (not paid in time) when the payment reached the kitchen"),
        ("pay-3", OrderStatus.RESERVED, "the payment of 1 cents is not the order's price (850)"),
        ("pay-4", OrderStatus.RESERVED, "the payment is not the order's customer's"),
    ]
    assert refusals(served)[0].amount_cents == 850 and refusals(served)[0].customer_id == "alice"


def test_expiry_waits_for_the_deadline_then_releases() -> None:
    order = place(pantry(lechuga=5, pollo=2))
    assert order.expires_at is not None
    with pytest.raises(ExpiryNotDue):
        order.expire(order.expires_at - timedelta(seconds=1))
    assert order.expire(order.expires_at) == {"lechuga": 5, "pollo": 2}
    assert order.status is OrderStatus.EXPIRED and order.reason == "not paid in time"
    assert order.expire(order.expires_at) is None


def test_cancelling_twice_is_harmless_and_a_served_order_cannot_be_cancelled() -> None:
    order = place(pantry(lechuga=5, pollo=2))
    assert order.cancel("alice") == {"lechuga": 5, "pollo": 2}
    assert order.cancel("alice") is None
    assert order.version == 3
    served = place(pantry(lechuga=5, pollo=2))
    served.serve(PAID)
    with pytest.raises(InvalidTransition):
        served.cancel("alice")


def test_every_change_of_state_bumps_the_version_by_one_and_records_it() -> None:
    order = place(pantry(lechuga=5, pollo=2))
    order.serve(PAID)
    changes = [e.order for e in order.events if isinstance(e, OrderChanged)]
    assert [c.version for c in changes] == [1, 2, 3]
    assert changes[-1] == order.state()


def test_the_state_machine_allows_only_its_transitions() -> None:
    assert {OrderStatus.SERVED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.FAILED} == TERMINAL
    assert TRANSITIONS[OrderStatus.PENDING] == {OrderStatus.RESERVED, OrderStatus.CANCELLED, OrderStatus.FAILED}
    assert TRANSITIONS[OrderStatus.RESERVED] == {OrderStatus.SERVED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
    pending = place(pantry(lechuga=0, pollo=0))
    assert pending.serve(PAID) is None and refusals(pending)  # not reserved: refused


def test_a_deadline_is_whole_seconds_and_never_early() -> None:
    due = deadline(NOW, 900)
    assert due.microsecond == 0
    assert due - NOW >= timedelta(seconds=900)
    assert due - NOW < timedelta(seconds=901)


def test_a_pending_order_past_its_supply_deadline_fails_and_lets_go() -> None:
    order = place(pantry(lechuga=4, pollo=2))
    assert order.expires_at is not None
    with pytest.raises(ExpiryNotDue):
        order.expire(order.expires_at - timedelta(seconds=1))
    assert order.expire(order.expires_at) == {"lechuga": 4, "pollo": 2}
    assert (order.status, order.reason) == (OrderStatus.FAILED, "the warehouse did not deliver in time")


def test_a_scheduled_check_for_a_deadline_that_was_replaced_changes_nothing() -> None:
    order = place(pantry(lechuga=4, pollo=2))
    supply_deadline = order.expires_at
    [req] = order.supply
    order.receive(req, 1, now=NOW, deadlines=DEADLINES)  # reserved: a new deadline, for the payment
    assert order.status is OrderStatus.RESERVED and order.expires_at != supply_deadline
    assert order.expire(NOW + timedelta(seconds=61), scheduled_for=supply_deadline) is None
    assert order.status is OrderStatus.RESERVED


def test_todays_menu_is_seven_dishes_stable_for_the_day_and_changing_between_days() -> None:
    dishes = [f"dish-{i}" for i in range(12)]
    today = todays_menu(dishes, date(2026, 11, 22))
    assert len(today) == 7 and len(set(today)) == 7
    assert todays_menu(list(reversed(dishes)), date(2026, 11, 22)) == today
    assert any(todays_menu(dishes, date(2026, 11, d)) != today for d in range(23, 30))
    assert sorted(todays_menu(dishes[:3], date(2026, 11, 22))) == dishes[:3]  # fewer than 7: all of them


def test_the_database_accepts_exactly_the_statuses_and_reasons_of_the_contract() -> None:
    """The CHECK constraints of the first migration are the one place besides the contract enums
    that spells the closed sets out; they must agree."""

    sql = (Path(__file__).resolve().parents[2] / "migrations/versions/0001_initial.py").read_text()

    def check_of(column: str) -> set[str]:
        found = re.search(rf"{column}\s+text NOT NULL[^\n]*\n?\s*CHECK \({column} IN \(([^)]*)\)\)", sql)
        assert found, column
        return set(re.findall(r"'([a-z_]+)'", found.group(1)))

    assert check_of("status") == {s.value for s in OrderStatus}
    assert check_of("reason") == {r.value for r in PantryReason}
