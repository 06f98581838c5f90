"""The invariants of DESIGN §3 as pure functions of one pass's reads (`Snapshot`).

Each check says, per key (an ingredient, an order, a supply request), what does not hold, or that
this pass cannot tell because the key moved between the reads that fence it. Whether that is
a real break or a race is for `reconcile_verdict` to decide over several passes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from brigade_devstack.reconcile_reads import Movement, Purchase, Snapshot


@dataclass(frozen=True)
class Outcome:
    """What one check saw in one pass."""

    check: str  # the invariant in words; also its identity from pass to pass
    summary: str  # the numbers it looked at
    failures: Mapping[str, str] = field(default_factory=dict)  # key → what does not hold
    unsettled: Mapping[str, str] = field(default_factory=dict)  # key → why this pass cannot tell
    notes: tuple[str, ...] = ()  # worth saying whether it holds or not
    checked: bool = True  # False: the HTTP APIs do not show what it needs


def check_all(s: Snapshot, grace: timedelta) -> list[Outcome]:
    """Every invariant, in the order they are printed."""
    return [
        ledger(
            "every pantry balance equals the sum of its ledger",
            {i: r.on_hand for i, r in s.pantry_before.items()},
            s.pantry_ledger,
            {i: r.on_hand for i, r in s.pantry_after.items()},
        ),
        ledger("every stock balance equals the sum of its ledger", s.stock_before, s.stock_ledger, s.stock_after),
        nothing_negative(s),
        reserved_within_on_hand(s),
        supplies_arrived(s, grace),
        purchases_recorded(s),
        deadline_live(s, "reserved", "expires_at", grace),
        deadline_live(s, "pending", "deadline", grace),
        holds(s),
    ]


def _sums(movements: Iterable[Movement], reason: str | None = None, sign: int = 1) -> Counter[str]:
    totals: Counter[str] = Counter()
    for m in movements:
        if reason is None or m.reason == reason:
            totals[m.ingredient] += sign * m.delta
    return totals


def ledger(check: str, before: Mapping[str, int], movements: list[Movement], after: Mapping[str, int]) -> Outcome:
    """Each balance, read unchanged on both sides of its ledger, equals the ledger's sum."""
    sums = _sums(movements)
    counts = Counter(m.ingredient for m in movements)
    failures: dict[str, str] = {}
    unsettled: dict[str, str] = {}
    for i in sorted(set(before) | set(after) | set(sums)):
        b, a, total = before.get(i, 0), after.get(i, 0), sums[i]
        if b != a:
            unsettled[i] = f"{i}: on_hand went from {b} to {a} while its ledger was read"
        elif total != b:
            moves = f"{counts[i]} movement{'' if counts[i] == 1 else 's'}"
            failures[i] = f"{i}: on_hand {b}, but its ledger ({moves}) sums to {total} (off by {b - total:+d})"
    summary = f"{len(set(after) | set(sums))} ingredients, {len(movements)} movements"
    return Outcome(check, summary, failures, unsettled)


def nothing_negative(s: Snapshot) -> Outcome:
    failures = {
        f"pantry {i} {name}": f"pantry {i}: {name} {value}"
        for i, r in s.pantry_after.items()
        for name, value in (("on_hand", r.on_hand), ("reserved", r.reserved))
        if value < 0
    }
    failures |= {f"stock {i}": f"stock {i}: on_hand {n}" for i, n in s.stock_after.items() if n < 0}
    summary = f"{len(s.pantry_after)} pantry and {len(s.stock_after)} stock balances"
    return Outcome("nothing negative (pantry on_hand and reserved, stock on_hand)", summary, failures)


def reserved_within_on_hand(s: Snapshot) -> Outcome:
    failures = {
        i: f"{i}: reserved {r.reserved} > on_hand {r.on_hand}"
        for i, r in s.pantry_after.items()
        if r.reserved > r.on_hand
    }
    summary = f"{sum(r.reserved for r in s.pantry_after.values())} units reserved in all"
    return Outcome("pantry reserved ≤ on_hand", summary, failures)


def supplies_arrived(s: Snapshot, grace: timedelta) -> Outcome:
    """Pantry deliveries read before the warehouse ledger cannot exceed what it shows had left (a
    delivery is caused by its supply); what had left must be in the pantry's second read, unless it
    may still be in flight: left less than `grace` ago."""
    left = _sums(s.stock_ledger, "supply", sign=-1)
    arrived_first = _sums(s.pantry_ledger, "delivery")
    arrived = _sums(s.pantry_ledger_again, "delivery")
    failures: dict[str, str] = {}
    notes: list[str] = []
    for i in sorted(set(left) | set(arrived_first)):
        if arrived_first[i] > left[i]:
            failures[i] = (
                f"{i}: the pantry received {arrived_first[i]} by delivery, but only {left[i]} left the "
                f"warehouse ({arrived_first[i] - left[i]} arrived twice or from nowhere)"
            )
            continue
        missing = left[i] - arrived[i]
        if missing <= 0:
            continue
        since = _latest_departure([m for m in s.stock_ledger if m.reason == "supply" and m.ingredient == i], missing)
        late = (s.now - since).total_seconds()
        if late > grace.total_seconds():
            failures[i] = (
                f"{i}: {left[i]} left the warehouse, {arrived[i]} arrived in the pantry: {missing} missing, some "
                f"of it sent at {since:%Y-%m-%d %H:%M:%S} UTC, {late:.0f} s ago (grace {grace.total_seconds():g} s)"
            )
        else:
            notes.append(f"{missing} {i} in flight: left the warehouse {late:.0f} s ago, not in the pantry yet")
    per_ingredient = ", ".join(f"{i} {n}" for i, n in sorted(left.items()) if n)
    summary = f"{left.total()} units left the warehouse, {arrived.total()} arrived" + (
        f" ({per_ingredient})" if per_ingredient else ""
    )
    return Outcome(
        "every unit that left the warehouse arrived in the pantry, once", summary, failures, notes=tuple(notes)
    )


def _latest_departure(supplies: list[Movement], missing: int) -> datetime:
    """The latest time by which some of `missing` units must have left: had the newest supplies been
    the ones not yet delivered, the one that completes `missing` left then (no later)."""
    newest_first = sorted(supplies, key=lambda m: (m.created_at, m.id), reverse=True)
    total = 0
    for m in newest_first:
        total -= m.delta
        if total >= missing:
            return m.created_at
    return newest_first[-1].created_at


def purchases_recorded(s: Snapshot) -> Outcome:
    """Per supply request and ingredient, the units the market sold equal the purchase movements:
    purchases read before the ledger cannot exceed it, nor the ledger the purchases read after (a
    purchase and its movement commit together, and both only grow)."""
    before = _bought(s.purchases_before)
    after = _bought(s.purchases_after)
    moved: Counter[tuple[str, str]] = Counter()
    for m in s.stock_ledger:
        if m.reason == "purchase":
            moved[(m.ref or "?", m.ingredient)] += m.delta
    failures: dict[str, str] = {}
    for request, ingredient in sorted(set(before) | set(moved)):
        key = (request, ingredient)
        if before[key] > moved[key]:
            failures[f"{request} {ingredient}"] = (
                f"request {request}: bought {before[key]} {ingredient}, "
                f"but only {moved[key]} are purchase movements in the stock ledger"
            )
        elif moved[key] > after[key]:
            failures[f"{request} {ingredient}"] = (
                f"request {request}: {moved[key]} {ingredient} are purchase movements, "
                f"but its purchases received only {after[key]}"
            )
    summary = f"{len(s.purchases_after)} purchases, {after.total()} units bought"
    return Outcome("every unit bought is a purchase movement", summary, failures)


def _bought(purchases: list[Purchase]) -> Counter[tuple[str, str]]:
    totals: Counter[tuple[str, str]] = Counter()
    for p in purchases:
        totals[(p.request_id, p.ingredient)] += p.received
    return totals


def deadline_live(s: Snapshot, status: str, deadline: str, grace: timedelta) -> Outcome:
    """No order waits in `status` without a deadline, or past it by more than `grace` (the kitchen's
    sweep settles overdue orders every few seconds)."""
    orders = [o for o in s.orders if o.status == status]
    failures: dict[str, str] = {}
    for o in orders:
        if o.expires_at is None:
            failures[o.order_id] = f"order {o.order_id}: {status} with no {deadline}"
            continue
        late = (s.now - o.expires_at).total_seconds()
        if late > grace.total_seconds():
            failures[o.order_id] = (
                f"order {o.order_id}: still {status}, its {deadline} {o.expires_at:%Y-%m-%d %H:%M:%S} UTC "
                f"passed {late:.0f} s ago"
            )
    check = f"no {status} order past its {deadline} (grace {grace.total_seconds():g} s)"
    return Outcome(check, f"{len(orders)} {status}", failures)


def holds(s: Snapshot) -> Outcome:
    """What the pantry holds is the orders' holds; over HTTP only its simplest case can be seen:
    with no order waiting, nothing may be reserved."""
    check = "pantry reserved equals the holds of the pending and reserved orders"
    if s.orders:
        summary = f"not checked over HTTP, the APIs do not show per-order holds ({len(s.orders)} orders wait)"
        return Outcome(check, summary, checked=False)
    failures = {
        i: f"{i}: {r.reserved} reserved, but no order is pending or reserved"
        for i, r in s.pantry_after.items()
        if r.reserved
    }
    summary = "no order waits, so nothing may be reserved (per-order holds are not checked over HTTP)"
    return Outcome(check, summary, failures)
