"""The live feed through the real stack: the `web` gateway in front, the kitchen, the warehouse and
the market making the events, a browser's socket signed in by its cookie. Staff watch the pantry
move for a customer's order; a customer sees only their own orders, and their own notifications
with the unread count as the notifications service stores and reads them (staff see only theirs);
the live process killed with SIGKILL costs a page that resumes from its last `seq` nothing, and
shows it nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from brigade_common.auth.requests import ACCESS_COOKIE
from brigade_common.testing.waiting import eventually
from brigade_contracts.kitchen import JOURNEY_STEP, ORDER_PLACED, ORDER_RESERVED, PANTRY_MOVED
from brigade_contracts.notifications import NOTIFICATION_CREATED, NOTIFICATIONS_READ
from tests.e2e.harness import Stack, restart
from tests.load.stack import start_with_gateway

FEED = "/api/live/ws"
BAD_GATEWAY = 1014  # the gateway's close when the service behind it drops the socket
STAFF = ("staff-demo", ("staff",))
Frame = dict[str, Any]


class Page:
    """A browser page's socket on the feed, reading every frame as it arrives."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        self.close_code: int | None = None
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in self.ws:
                self.frames.append(json.loads(text))
        rcvd = self.ws.protocol.close_rcvd
        self.close_code = rcvd.code if rcvd is not None else -1

    async def send(self, frame: Frame) -> None:
        await self.ws.send(json.dumps(frame))

    async def first(self, check: Callable[[Frame], bool], what: str, timeout: float = 20) -> Frame:
        """The first frame (received so far or later) that passes `check`."""

        def found() -> Frame | None:
            if self._reader.done() and not any(check(f) for f in self.frames):
                raise AssertionError(f"closed ({self.close_code}) before {what}")
            return next((f for f in self.frames if check(f)), None)

        frame: Frame = await eventually(found, timeout, what)
        return frame

    async def subscribe(self, channel: str, after: int | None = None) -> Frame:
        """Subscribe and wait until the replay (if any) is done: the `live` frame."""
        await self.send({"type": "subscribe", "channel": channel, **({} if after is None else {"after": after})})
        return await self.first(lambda f: f["type"] == "live" and f["channel"] == channel, f"{channel} live")

    async def synced(self) -> None:
        """Everything the server sent before now has arrived (its pong comes after it)."""
        pongs = len(self.of("pong"))
        await self.send({"type": "ping"})
        await eventually(lambda: len(self.of("pong")) > pongs, 10, "the pong")

    def of(self, kind: str, channel: str | None = None) -> list[Frame]:
        return [f for f in self.frames if f["type"] == kind and channel in (None, f.get("channel"))]

    def events(self, channel: str) -> list[Frame]:
        return self.of("event", channel)

    async def closed(self, timeout: float = 10) -> int:
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        assert self.close_code is not None
        return self.close_code


@contextlib.asynccontextmanager
async def page(gateway: str, token: str, origin: str | None = None) -> AsyncIterator[Page]:
    """A page of the site with the session cookie: its socket opens with the cookie and the site's
    Origin, as a browser's does, and counts as signed in once `ready` comes."""
    origin = origin or gateway
    url = gateway.replace("http://", "ws://") + FEED
    cookie = {"Cookie": f"{ACCESS_COOKIE}={token}"}
    async with connect(url, origin=Origin(origin), additional_headers=cookie, open_timeout=10) as ws:
        # Offered as a browser offers it, permessage-deflate is declined: it doubled the memory of a
        # socket for little gain on small frames (docs/benchmarks.md, live).
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
        p = Page(ws)
        try:
            await p.first(lambda f: f["type"] == "ready", "ready")
            yield p
        finally:
            p._reader.cancel()


async def place(http: httpx.AsyncClient, gateway: str, stack: Stack, dish_id: str, customer: str) -> Frame:
    """A customer's order through the gateway, once the kitchen has it reserved."""
    r = await http.post(
        f"{gateway}/api/kitchen/orders", json={"dish_id": dish_id, "quantity": 1}, headers=stack.auth(customer)
    )
    assert r.status_code == 201, r.text
    body: Frame = r.json()
    assert body["status"] == "reserved", body
    return body


async def served(http: httpx.AsyncClient, gateway: str, stack: Stack, order: Frame) -> None:
    """Pay for `order` through the gateway and wait until the kitchen served it."""
    body = {"order_id": order["order_id"], "token": "tok_visa"}
    r = await http.post(f"{gateway}/api/payments", json=body, headers=stack.auth(order["customer_id"]))
    assert r.status_code == 201, r.text

    async def is_served() -> bool:
        r = await http.get(
            f"{gateway}/api/kitchen/orders/{order['order_id']}", headers=stack.auth(order["customer_id"])
        )
        return bool(r.json()["status"] == "served")

    await eventually(is_served, 30, f"order {order['order_id']} served")


async def movements_after(http: httpx.AsyncClient, gateway: str, stack: Stack, after: int) -> list[int]:
    """The ids of the kitchen's pantry ledger rows newer than `after`, oldest first (what staff read)."""
    r = await http.get(f"{gateway}/api/kitchen/pantry/movements", params={"limit": 100}, headers=stack.staff())
    assert r.status_code == 200, r.text
    return sorted(m["id"] for m in r.json()["items"] if m["id"] > after)


def event(channel: str, kind: str | None = None, **data: object) -> Callable[[Frame], bool]:
    """A check for an event frame of `channel` (of type `kind`) whose data holds `data`."""

    def check(f: Frame) -> bool:
        return (
            f["type"] == "event"
            and f["channel"] == channel
            and kind in (None, f["event"]["type"])
            and all(f["event"]["data"].get(k) == v for k, v in data.items())
        )

    return check


def movement_ids(p: Page) -> list[int]:
    return [f["event"]["data"]["movement_id"] for f in p.events("pantry") if f["event"]["type"] == PANTRY_MOVED]


async def test_staff_watch_the_pantry_move_for_an_order_and_customers_see_only_their_own(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    gateway = await start_with_gateway(stack)
    async with (
        page(gateway, stack.token(*STAFF)) as staff,
        page(gateway, stack.token("alice")) as alice,
        page(gateway, stack.token("bob")) as bob,
    ):
        await staff.subscribe("pantry")
        for p in (staff, alice, bob):
            await p.subscribe("orders")
        # The salad needs one lechuga more than the pantry has: the warehouse delivers it for this order.
        salad = await place(http, gateway, stack, "ensalada-cesar", "alice")
        pasta = await place(http, gateway, stack, "pasta-carne-molida", "bob")

        delivered = await staff.first(
            event("pantry", PANTRY_MOVED, order_id=salad["order_id"]), "the delivery for the salad"
        )
        data = delivered["event"]["data"]
        assert (data["ingredient"], data["delta"], data["reason"]) == ("lechuga", 1, "delivery")
        for order in (salad, pasta):
            await staff.first(
                event("orders", ORDER_RESERVED, order_id=order["order_id"]), "staff see the order reserved"
            )
        for customer, own in ((alice, salad), (bob, pasta)):
            await customer.first(event("orders", ORDER_RESERVED, order_id=own["order_id"]), "their order reserved")
            await customer.synced()
            assert {f["event"]["data"]["order_id"] for f in customer.events("orders")} == {own["order_id"]}
            heard = [f["event"] for f in customer.events("orders")]
            assert [e["type"] for e in heard if e["type"] != JOURNEY_STEP] == [ORDER_PLACED, ORDER_RESERVED]
            # The salad's journey besides its states: the lechuga asked of the warehouse, then delivered.
            supply = [e["data"]["kind"] for e in heard if e["type"] == JOURNEY_STEP]
            assert supply == (["requested", "delivered"] if own is salad else [])
            await customer.send({"type": "subscribe", "channel": "pantry"})
            refused = await customer.first(lambda f: f["type"] == "error", "the pantry refused")
            assert refused["code"] == "forbidden"
            assert customer.events("pantry") == []

    # The same cookie from a page on another site: the handshake is refused, through the gateway too.
    with pytest.raises(InvalidStatus) as cross_site:
        async with page(gateway, stack.token(*STAFF), origin="http://evil.example"):
            pass
    assert cross_site.value.response.status_code == 403


async def test_a_customers_bell_rings_live_with_their_own_notifications_and_no_one_elses(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    gateway = await start_with_gateway(stack)
    async with page(gateway, stack.token(*STAFF)) as staff, page(gateway, stack.token("alice")) as alice:
        for p in (staff, alice):
            await p.subscribe("notifications")
        order = await place(http, gateway, stack, "ensalada-cesar", "alice")
        ready = await alice.first(
            lambda f: (
                event("notifications", NOTIFICATION_CREATED)(f) and f["event"]["data"]["kind"] == "order_reserved"
            ),
            "alice's order ready to pay",
        )
        assert ready["event"]["data"]["data"]["order_id"] == order["order_id"]
        listed = await http.get(f"{gateway}/api/notifications/notifications", headers=stack.auth("alice"))
        assert listed.json()["unread"] == ready["event"]["data"]["unread"] == 2
        assert [f["event"]["data"]["notification_id"] for f in alice.events("notifications")] == [
            n["id"] for n in reversed(listed.json()["items"])
        ]

        r = await http.post(f"{gateway}/api/notifications/notifications/read-all", headers=stack.auth("alice"))
        assert r.status_code == 200, r.text
        read = await alice.first(event("notifications", NOTIFICATIONS_READ, all=True), "alice's read-all")
        assert read["event"]["data"]["unread"] == 0
        await staff.synced()
        assert {f["event"]["data"]["user_id"] for f in staff.events("notifications")} <= {STAFF[0]}


async def test_a_page_that_resumes_after_the_live_process_was_killed_misses_nothing_and_gets_nothing_twice(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    gateway = await start_with_gateway(stack)
    start = max([0, *await movements_after(http, gateway, stack, 0)])
    async with page(gateway, stack.token(*STAFF)) as before:
        await before.subscribe("pantry")
        await served(http, gateway, stack, await place(http, gateway, stack, "ensalada-cesar", "alice"))
        seen = await movements_after(http, gateway, stack, start)
        await eventually(lambda: movement_ids(before) == seen, 20, "the salad's movements on the page")
        last_seq = before.events("pantry")[-1]["seq"]

        stack.services["live"].signal(signal.SIGKILL)
        assert await before.closed() == BAD_GATEWAY

    # While the feed is down the kitchen goes on: two more orders served, their ingredients consumed.
    with pytest.raises(InvalidStatus) as down:
        async with page(gateway, stack.token(*STAFF)):
            pass
    assert down.value.response.status_code == 503
    for dish in ("pasta-carne-molida", "pan-simple"):
        await served(http, gateway, stack, await place(http, gateway, stack, dish, "bob"))
    missed = await movements_after(http, gateway, stack, seen[-1])
    assert len(missed) == 3 + 5  # one consumption per ingredient of each dish

    await restart(stack, "live")
    async with page(gateway, stack.token(*STAFF)) as after:
        await after.subscribe("pantry", after=last_seq)
        # The kitchen's outbox may still be publishing the last of them: those come live, after the replay.
        await eventually(lambda: len(movement_ids(after)) >= len(missed), 20, "the missed movements")
        await after.synced()
        assert movement_ids(after) == missed  # exactly the missed ones, once each, in order
        seqs = [f["seq"] for f in after.events("pantry")]
        assert seqs == sorted(set(seqs)) and seqs[0] > last_seq

        # And the feed is live again from there.
        await served(http, gateway, stack, await place(http, gateway, stack, "hamburguesa", "alice"))
        later = await movements_after(http, gateway, stack, missed[-1])
        await eventually(lambda: movement_ids(after) == missed + later, 20, "the burger's movements on the page")
