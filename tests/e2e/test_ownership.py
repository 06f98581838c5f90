"""Someone else's resource is a 404, on every operation of every service that reaches one.

Generated from the catalog's OpenAPI documents (tests/contract/documents.py): every operation any
signed-in caller may use (`auth`, no roles) is listed below, with how to make a resource of its
kind for its owner (`OWNED`: operations on one resource, by its path parameters; `LISTS`: the
caller's own collection), or why it reaches nobody else's (`OWN_BY_CONSTRUCTION`). A new operation
that is in none of them fails the first test. Operations for some roles only are the security
matrix's (tests/contract/test_security_matrix.py): a customer gets 403 there.

Against the running services: the owner's resource is a 404 to another customer and leaves it
as it was, the owner reaches it, and staff do where the resource is the kitchen's to run.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from brigade_common.testing.waiting import eventually
from tests.contract.documents import declared
from tests.e2e.client import get_order, order, pay, settled
from tests.e2e.harness import Stack

OWNER, OTHER = "alice-owner", "bob-other"
Key = tuple[str, str, str]  # (service, method, path template)
Make = Callable[[Stack, httpx.AsyncClient], Awaitable[dict[str, str]]]


async def an_order(stack: Stack, http: httpx.AsyncClient) -> dict[str, str]:
    placed = await order(http, stack, "pan-simple", sub=OWNER)
    assert placed.status_code == 201, placed.text
    return {"order_id": placed.json()["order_id"]}


@dataclass(frozen=True)
class Owned:
    make: Make
    # What the owner's resource looks like when read back, to prove another's call changed nothing.
    read: Callable[[Stack, httpx.AsyncClient, dict[str, str]], Awaitable[Any]]
    staff_reach_it: bool


async def read_order(stack: Stack, http: httpx.AsyncClient, params: dict[str, str]) -> Any:
    return await get_order(http, stack, params["order_id"], sub=OWNER)


async def a_payment(stack: Stack, http: httpx.AsyncClient) -> dict[str, str]:
    placed = (await an_order(stack, http))["order_id"]
    reserved = await settled(http, stack, placed, sub=OWNER)
    assert reserved["status"] == "reserved", reserved
    paid = await pay(http, stack, reserved)
    assert paid.status_code == 201, paid.text
    return {"payment_id": paid.json()["payment_id"]}


async def read_payment(stack: Stack, http: httpx.AsyncClient, params: dict[str, str]) -> Any:
    r = await http.get(f"{stack.url('payments')}/api/payments/{params['payment_id']}", headers=stack.auth(OWNER))
    return r.json()


NOTIFICATIONS = "/api/notifications/notifications"


async def owners_notifications(stack: Stack, http: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await http.get(stack.url("notifications") + NOTIFICATIONS, headers=stack.auth(OWNER))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def a_notification(stack: Stack, http: httpx.AsyncClient) -> dict[str, str]:
    """The owner's order tells them how it goes: its first notification."""
    placed = (await an_order(stack, http))["order_id"]

    async def told() -> dict[str, str] | None:
        about = [n for n in await owners_notifications(stack, http) if n["data"].get("order_id") == placed]
        return {"notification_id": about[0]["id"]} if about else None

    found: dict[str, str] = await eventually(told, 30, f"a notification of order {placed}")
    return found


async def read_notification(stack: Stack, http: httpx.AsyncClient, params: dict[str, str]) -> Any:
    mine = await owners_notifications(stack, http)
    return next(n for n in mine if n["id"] == params["notification_id"])


OWNED: dict[Key, Owned] = {
    ("notifications", "POST", NOTIFICATIONS + "/{notification_id}/read"): Owned(
        a_notification, read_notification, staff_reach_it=False
    ),
    ("payments", "GET", "/api/payments/{payment_id}"): Owned(a_payment, read_payment, staff_reach_it=True),
    ("kitchen", "GET", "/api/kitchen/orders/{order_id}"): Owned(an_order, read_order, staff_reach_it=True),
    ("kitchen", "GET", "/api/kitchen/orders/{order_id}/journey"): Owned(an_order, read_order, staff_reach_it=True),
    ("kitchen", "POST", "/api/kitchen/orders/{order_id}/cancel"): Owned(an_order, read_order, staff_reach_it=True),
}
# A collection of the caller's own: the make, and the ids of a page of it.
LISTS: dict[Key, tuple[Make, Callable[[dict[str, Any]], set[str]]]] = {
    ("kitchen", "GET", "/api/kitchen/orders"): (an_order, lambda page: {o["order_id"] for o in page["items"]}),
    ("payments", "GET", "/api/payments"): (a_payment, lambda page: {p["payment_id"] for p in page["items"]}),
    ("notifications", "GET", NOTIFICATIONS): (
        a_notification,
        lambda page: {n["id"] for n in page["items"]},
    ),
}
OWN_BY_CONSTRUCTION: dict[Key, str] = {
    ("auth", "GET", "/api/auth/me"): "the caller's own account: the token's subject, no identifier to change",
    (
        "kitchen",
        "POST",
        "/api/kitchen/orders",
    ): "creates the caller's own order (its customer is the token's subject)",
    ("notifications", "POST", NOTIFICATIONS + "/read-all"): "marks the caller's own only: the user is the token's "
    "subject, no identifier to change",
    ("payments", "POST", "/api/payments"): "pays for an order of the caller's only: another's is a 404, "
    "as one that does not exist (services/payments/tests/integration)",
}


def _for_any_caller() -> set[Key]:
    return {
        (service, method.upper(), path)
        for service, document in declared().items()
        for path, operations in document["paths"].items()
        for method, op in operations.items()
        if op.get("security") and not op.get("x-roles")
    }


def test_every_operation_for_any_caller_is_listed() -> None:
    listed = set(OWNED) | set(LISTS) | set(OWN_BY_CONSTRUCTION)
    found = _for_any_caller()
    assert found <= listed, f"say how these keep to the caller's own resources: {sorted(found - listed)}"
    assert listed <= found, f"listed, not served for any caller: {sorted(listed - found)}"


def nonexistent(params: dict[str, str]) -> dict[str, str]:
    return {name: str(uuid.uuid4()) for name in params}


def _url(stack: Stack, key: Key, params: dict[str, str]) -> str:
    service, _, template = key
    return stack.url(service) + template.format(**params)


async def test_another_customers_resource_is_a_404_and_stays_as_it_was(stack: Stack, http: httpx.AsyncClient) -> None:
    for key, owned in OWNED.items():
        method = key[1]
        params = await owned.make(stack, http)
        before = await owned.read(stack, http, params)
        other = await http.request(method, _url(stack, key, params), headers=stack.auth(OTHER))
        assert other.status_code == 404, f"{key}: {other.status_code} {other.text}"
        # Indistinguishable from a resource that does not exist: nothing says it is someone's.
        nobodys = await http.request(method, _url(stack, key, nonexistent(params)), headers=stack.auth(OTHER))
        assert (nobodys.status_code, nobodys.json()["type"]) == (404, other.json()["type"]), key
        assert await owned.read(stack, http, params) == before, f"{key}: another's call changed it"
        mine = await http.request(method, _url(stack, key, params), headers=stack.auth(OWNER))
        assert mine.status_code < 400, f"{key}: the owner got {mine.status_code} {mine.text}"
        if owned.staff_reach_it:
            params = await owned.make(stack, http)
            staff = await http.request(method, _url(stack, key, params), headers=stack.staff())
            assert staff.status_code < 400, f"{key}: staff got {staff.status_code} {staff.text}"


async def test_a_collection_holds_only_the_callers_own(stack: Stack, http: httpx.AsyncClient) -> None:
    for key, (make, ids) in LISTS.items():
        params = await make(stack, http)
        (owned_id,) = params.values()
        url = _url(stack, key, {})
        mine = await http.get(url, headers=stack.auth(OWNER))
        theirs = await http.get(url, headers=stack.auth(OTHER))
        assert mine.status_code == theirs.status_code == 200, f"{key}: {mine.text} {theirs.text}"
        assert owned_id in ids(mine.json()), f"{key}: the owner's own is missing"
        assert owned_id not in ids(theirs.json()), f"{key}: another customer sees it"
