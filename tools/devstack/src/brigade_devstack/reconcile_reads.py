"""One reconciliation pass's reads, in the order that lets `reconcile_checks` bound what it sees.

No read is atomic across requests, let alone across services, so each comparison is fenced by the
reads around it (`brigade_devstack.reconcile` says why this order):

  pantry ledger, pantry, newest ledger pages, pantry     the balance on both sides of a short read
  purchases, stock ledger, stock, newest ledger pages, stock, purchases
  newest pantry ledger pages                             deliveries in flight during the first read
  pending and reserved orders                            last: this answer's server clock is "now"

A whole ledger takes many pages, so it is read once, and then only its newest pages (down to the
newest row already read) between the two balance reads: that window is a few milliseconds, so even
a busy ingredient is seldom caught moving in it. Every row committed before the first balance read
is in the merged ledger: rows committed before the full read began are on its pages, later ones
have higher ids and are on the newest pages. (Ids are handed out at insert, so a row can commit
after one with a higher id while both transactions are open, and a cursor can pass it by: such a
miss does not repeat in the next pass.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from brigade_devstack.reconcile_http import ApiReader, Unreadable

KITCHEN = "/api/kitchen"
WAREHOUSE = "/api/warehouse"
PANTRY_LEDGER = f"{KITCHEN}/pantry/movements"
STOCK_LEDGER = f"{WAREHOUSE}/stock/movements"
LIVE_STATUSES = ("pending", "reserved")


@dataclass(frozen=True)
class PantryRow:
    ingredient: str
    on_hand: int
    reserved: int


@dataclass(frozen=True)
class Movement:
    """A ledger row of either service; `ref` is the pantry's order_id or the warehouse's request_id."""

    id: int
    ingredient: str
    delta: int
    reason: str
    ref: str | None
    created_at: datetime


@dataclass(frozen=True)
class Purchase:
    request_id: str
    ingredient: str
    received: int


@dataclass(frozen=True)
class Order:
    order_id: str
    status: str
    expires_at: datetime | None


@dataclass(frozen=True)
class Snapshot:
    pantry_before: Mapping[str, PantryRow]
    pantry_ledger: list[Movement]
    pantry_after: Mapping[str, PantryRow]
    purchases_before: list[Purchase]
    stock_before: Mapping[str, int]
    stock_ledger: list[Movement]
    stock_after: Mapping[str, int]
    purchases_after: list[Purchase]
    pantry_ledger_again: list[Movement]
    orders: list[Order]
    now: datetime  # the server's clock when the orders were read


def read_snapshot(api: ApiReader) -> Snapshot:
    """Every list one pass needs, read in the fenced order above (`Unreadable` when any read fails)."""
    pantry_ledger = _movements(api, PANTRY_LEDGER, "order_id")
    pantry_before = _pantry(api)
    pantry_ledger = _movements(api, PANTRY_LEDGER, "order_id", after=pantry_ledger)
    pantry_after = _pantry(api)
    purchases_before = _purchases(api)
    stock_ledger = _movements(api, STOCK_LEDGER, "request_id")
    stock_before = _stock(api)
    stock_ledger = _movements(api, STOCK_LEDGER, "request_id", after=stock_ledger)
    stock_after = _stock(api)
    purchases_after = _purchases(api)
    pantry_ledger_again = _movements(api, PANTRY_LEDGER, "order_id", after=pantry_ledger)
    orders = _orders(api)
    return Snapshot(
        pantry_before,
        pantry_ledger,
        pantry_after,
        purchases_before,
        stock_before,
        stock_ledger,
        stock_after,
        purchases_after,
        pantry_ledger_again,
        orders,
        api.server_now,
    )


def _items(api: ApiReader, path: str) -> list[dict[str, Any]]:
    body = api.get(path)
    if not isinstance(body, list):
        raise Unreadable(f"GET {path} did not answer a list")
    return body


def _pantry(api: ApiReader) -> dict[str, PantryRow]:
    with _shape(f"{KITCHEN}/pantry"):
        rows = [
            PantryRow(r["ingredient"], int(r["on_hand"]), int(r["reserved"])) for r in _items(api, f"{KITCHEN}/pantry")
        ]
    return {r.ingredient: r for r in rows}


def _stock(api: ApiReader) -> dict[str, int]:
    with _shape(f"{WAREHOUSE}/stock"):
        return {r["ingredient"]: int(r["on_hand"]) for r in _items(api, f"{WAREHOUSE}/stock")}


def _movements(api: ApiReader, path: str, ref: str, *, after: list[Movement] | None = None) -> list[Movement]:
    """The whole ledger at `path`; with `after`, that ledger read earlier plus the rows since
    (the newest pages down to its newest id)."""
    known = {m.id: m for m in after or ()}
    with _shape(path):
        rows = api.pages(path, down_to=max(known, default=0) if after is not None else None)
        for m in rows:
            movement = Movement(
                int(m["id"]), m["ingredient"], int(m["delta"]), m["reason"], m.get(ref), _when(m["created_at"])
            )
            known[movement.id] = movement
    return sorted(known.values(), key=lambda m: m.id, reverse=True)


def _purchases(api: ApiReader) -> list[Purchase]:
    path = f"{WAREHOUSE}/purchases"
    with _shape(path):
        return [Purchase(p["request_id"], p["ingredient"], int(p["received"])) for p in api.pages(path)]


def _orders(api: ApiReader) -> list[Order]:
    path = f"{KITCHEN}/orders"
    with _shape(path):
        return [
            Order(o["order_id"], o["status"], _when(o["expires_at"]) if o.get("expires_at") else None)
            for o in api.pages(path, [("status", s) for s in LIVE_STATUSES])
        ]


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@contextlib.contextmanager
def _shape(path: str) -> Iterator[None]:
    """A body that lacks a field the checks need is `Unreadable`, naming the endpoint."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as exc:
        raise Unreadable(f"GET {path} answered an unexpected shape ({type(exc).__name__}: {exc})") from exc
