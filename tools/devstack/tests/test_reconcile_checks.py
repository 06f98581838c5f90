"""`reconcile`'s judgement on reads that race with the services: in-flight deliveries, double
deliveries, a ledger caught mid-way, a balance that never holds still. Pure: no servers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from brigade_devstack.reconcile_checks import check_all
from brigade_devstack.reconcile_reads import Movement, Order, PantryRow, Purchase, Snapshot
from brigade_devstack.reconcile_verdict import BROKEN, HOLDS, UNSETTLED, Passes, Verdict, exit_code

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
GRACE = timedelta(seconds=30)
REQUEST = "7d8c3f4e-0000-4000-8000-000000000001"


def mv(n: int, ingredient: str, delta: int, reason: str, ago_s: float = 600, ref: str | None = None) -> Movement:
    return Movement(n, ingredient, delta, reason, ref, NOW - timedelta(seconds=ago_s))


def healthy() -> Snapshot:
    """Pantry lechuga 4 + 1 delivered; the warehouse had 2, bought 3, sent 1."""
    pantry = {"lechuga": PantryRow("lechuga", 5, 0)}
    kitchen = [mv(2, "lechuga", 1, "delivery"), mv(1, "lechuga", 4, "seed")]
    bought = [Purchase(REQUEST, "lechuga", 3)]
    warehouse = [mv(3, "lechuga", -1, "supply", ref=REQUEST), mv(2, "lechuga", 3, "purchase", ref=REQUEST)]
    warehouse.append(mv(1, "lechuga", 2, "seed"))
    stock = {"lechuga": 4}
    return Snapshot(pantry, kitchen, pantry, bought, stock, warehouse, stock, bought, kitchen, [], NOW)


def judge(*passes: Snapshot) -> dict[str, Verdict]:
    seen = Passes()
    for snapshot in passes:
        seen.add(check_all(snapshot, GRACE))
    return {v.check.split(" (")[0]: v for v in seen.verdicts()}


def marks(verdicts: dict[str, Verdict]) -> dict[str, str]:
    return {check: v.mark for check, v in verdicts.items() if v.mark != HOLDS}


def supplied(verdicts: dict[str, Verdict]) -> Verdict:
    return verdicts["every unit that left the warehouse arrived in the pantry, once"]


def test_a_healthy_system_holds_everywhere_and_with_no_order_waiting_nothing_is_reserved() -> None:
    verdicts = judge(healthy())
    assert marks(verdicts) == {} and exit_code(verdicts.values()) == 0
    assert (
        "nothing may be reserved"
        in verdicts["pantry reserved equals the holds of the pending and reserved orders"].summary
    )


def test_a_delivery_sent_moments_ago_is_in_flight_but_one_sent_past_the_grace_is_missing() -> None:
    s = healthy()
    sent = mv(4, "lechuga", -2, "supply", ago_s=5, ref=REQUEST)
    in_flight = dataclasses.replace(s, stock_ledger=[sent, *s.stock_ledger], stock_before={"lechuga": 2})
    in_flight = dataclasses.replace(in_flight, stock_after={"lechuga": 2})
    verdict = supplied(judge(in_flight))
    assert verdict.mark == HOLDS
    assert verdict.notes == ("2 lechuga in flight: left the warehouse 5 s ago, not in the pantry yet",)

    lost = dataclasses.replace(
        in_flight, stock_ledger=[dataclasses.replace(sent, created_at=NOW - timedelta(minutes=5))]
    )
    lost = dataclasses.replace(lost, stock_ledger=[*lost.stock_ledger, *s.stock_ledger])
    verdict = supplied(judge(lost, lost))
    assert verdict.mark == BROKEN
    assert verdict.details[0].startswith("lechuga: 3 left the warehouse, 1 arrived in the pantry: 2 missing")


def test_the_newest_supplies_are_assumed_in_flight_first() -> None:
    # 3 sent 5 minutes ago and 2 sent 5 s ago; 2 missing could be the recent ones, 3 missing cannot.
    s = healthy()
    old, recent = mv(5, "lechuga", -3, "supply", ago_s=300), mv(6, "lechuga", -2, "supply", ago_s=5)
    ledger = [recent, old, *s.stock_ledger]
    two_missing = dataclasses.replace(
        s, stock_ledger=ledger, pantry_ledger_again=[mv(3, "lechuga", 3, "delivery"), *s.pantry_ledger]
    )
    assert supplied(judge(two_missing)).mark == HOLDS
    three_missing = dataclasses.replace(
        two_missing, pantry_ledger_again=[mv(3, "lechuga", 2, "delivery"), *s.pantry_ledger]
    )
    assert supplied(judge(three_missing, three_missing)).mark == BROKEN


def test_a_delivery_the_pantry_holds_before_the_warehouse_shows_it_left_is_a_double_delivery() -> None:
    s = healthy()
    twice = [mv(3, "lechuga", 1, "delivery"), *s.pantry_ledger]
    broken = dataclasses.replace(s, pantry_ledger=twice, pantry_ledger_again=twice)
    verdict = supplied(judge(broken, broken, broken))
    assert verdict.mark == BROKEN and "arrived twice or from nowhere" in verdict.details[0]


def test_a_race_seen_in_one_pass_only_holds_and_says_it_was_re_read() -> None:
    s = healthy()
    # A movement committed late with a lower id, missed by the cursor in the first pass only.
    missed = dataclasses.replace(s, pantry_ledger=s.pantry_ledger[1:])
    verdicts = judge(missed, s)
    ledger = verdicts["every pantry balance equals the sum of its ledger"]
    assert ledger.mark == HOLDS and "held on a re-read (2 passes)" in ledger.notes[0]


def test_a_balance_that_moves_during_every_pass_cannot_be_judged() -> None:
    s = healthy()
    moving = dataclasses.replace(s, pantry_after={"lechuga": PantryRow("lechuga", 6, 0)})
    verdicts = judge(moving, moving, moving)
    ledger = verdicts["every pantry balance equals the sum of its ledger"]
    assert ledger.mark == UNSETTLED and ledger.details == (
        "lechuga: on_hand went from 5 to 6 while its ledger was read",
    )
    assert exit_code(verdicts.values()) == 2


def test_units_bought_without_their_movement_name_the_request() -> None:
    s = healthy()
    more = [Purchase(REQUEST, "lechuga", 5)]
    broken = dataclasses.replace(s, purchases_before=more, purchases_after=more)
    verdict = judge(broken, broken)["every unit bought is a purchase movement"]
    assert verdict.details == (
        f"request {REQUEST}: bought 5 lechuga, but only 3 are purchase movements in the stock ledger",
    )


def test_holds_with_no_order_waiting_and_orders_without_a_deadline_break_their_invariants() -> None:
    s = healthy()
    leaked = dataclasses.replace(s, pantry_after={"lechuga": PantryRow("lechuga", 5, 3)})
    holds = judge(leaked, leaked)["pantry reserved equals the holds of the pending and reserved orders"]
    assert holds.details == ("lechuga: 3 reserved, but no order is pending or reserved",)

    waiting = dataclasses.replace(s, orders=[Order("o-1", "pending", None), Order("o-2", "reserved", NOW)])
    verdicts = judge(waiting)
    assert marks(verdicts) == {
        "no pending order past its deadline": BROKEN,
        "pantry reserved equals the holds of the pending and reserved orders": "–",
    }
    assert verdicts["no pending order past its deadline"].details == ("order o-1: pending with no deadline",)
