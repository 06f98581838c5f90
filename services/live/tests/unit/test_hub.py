"""The hub against an in-memory log: every event after `after` exactly once, in order, whatever lands
while a replay runs; each user only what is theirs; a slow socket closed, never waited for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from brigade_common.auth.verifier import Principal
from brigade_common.testing.waiting import eventually
from brigade_contracts.kitchen import JOURNEY_STEP, ORDER_EXPIRY_DUE, ORDER_PLACED, PANTRY_MOVED
from brigade_contracts.notifications import NOTIFICATION_CREATED, NOTIFICATIONS_READ
from brigade_contracts.warehouse import PURCHASE_MADE, STOCK_MOVED, SUPPLY_CMD
from brigade_live.domain import protocol
from brigade_live.service.channels import CHANNELS
from brigade_live.service.hub import Hub, HubSettings
from brigade_live.service.session import Session
from services.live.tests.unit.fakes import FakeLog, FakeSocket, envelope

STAFF = Principal("sam", frozenset({"staff"}))
ALICE = Principal("alice", frozenset({"customer"}))
BOB = Principal("bob", frozenset({"customer"}))
CHEF = Principal("chef", frozenset({"staff"}))


def moved(log: FakeLog, n: int = 1) -> list[int]:
    return [
        log.append("KITCHEN", PANTRY_MOVED, envelope(PANTRY_MOVED, movement_id=i, ingredient="pan")) for i in range(n)
    ]


def placed(log: FakeLog, customer: str) -> int:
    return log.append("KITCHEN", ORDER_PLACED, envelope(ORDER_PLACED, order_id="o", customer_id=customer))


def notified(log: FakeLog, user: str, type_: str = NOTIFICATION_CREATED) -> int:
    return log.append("NOTIFICATIONS", type_, envelope(type_, notification_id="n", user_id=user, unread=1))


@pytest.fixture
def log() -> FakeLog:
    return FakeLog()


@asynccontextmanager
async def started(log: FakeLog, **settings: int) -> AsyncIterator[Hub]:
    hub = Hub(log, CHANNELS, HubSettings(**{"replay_page": 10, "held_frames": 1_000, **settings}))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


@asynccontextmanager
async def connected(
    hub: Hub, principal: Principal, queue_frames: int = 1_000
) -> AsyncIterator[tuple[Session, FakeSocket]]:
    socket = FakeSocket()
    session = Session(socket, principal, queue_frames=queue_frames)
    hub.joined(session)
    pump = asyncio.create_task(session.pump())
    try:
        yield session, socket
    finally:
        pump.cancel()
        hub.left(session)


async def flushed(session: Session) -> None:
    await eventually(lambda: session.backlog == 0, 5, "the queued frames sent")


async def watching(
    log: FakeLog, channel: str, viewers: Sequence[Principal], then: Callable[[], list[int]]
) -> tuple[list[int], list[FakeSocket]]:
    """Each viewer subscribed to `channel` from the start; `then` appends live events (their seqs);
    the sockets once every frame is sent."""
    async with started(log) as hub, AsyncExitStack() as stack:
        joined = [await stack.enter_async_context(connected(hub, viewer)) for viewer in viewers]
        for session, _ in joined:
            await hub.subscribe(session, channel, after=0)
        live = then()
        for session, _ in joined:
            await flushed(session)
    return live, [socket for _, socket in joined]


async def test_a_resume_gets_every_later_event_once_in_order_even_those_landing_during_the_replay(
    log: FakeLog,
) -> None:
    history = moved(log, 95)
    placed(log, "alice")  # the same stream, another channel: not in the pantry's feed
    async with started(log) as hub, connected(hub, STAFF) as (session, socket):
        while_nobody_watched = moved(log, 5)
        landed: list[int] = []
        log.between_pages = lambda: landed.extend(moved(log, 2))  # events keep coming between pages
        await hub.subscribe(session, "pantry", after=history[39])
        log.between_pages = None
        after_live = moved(log, 3)
        await flushed(session)

    expected = history[40:] + while_nobody_watched + landed + after_live
    assert socket.seqs("pantry") == expected  # none missing, none twice, in order
    assert log.pages_served >= 5 and landed
    (live,) = socket.of("live", "pantry")
    assert socket.frames.index(live) == len(history[40:] + while_nobody_watched + landed)
    assert live["seq"] == landed[-1]  # resuming from it later misses nothing
    assert all(f["event"]["type"] == PANTRY_MOVED for f in socket.of("event"))


async def test_without_after_only_new_events_come(log: FakeLog) -> None:
    moved(log, 3)
    async with started(log) as hub, connected(hub, STAFF) as (session, socket):
        await hub.subscribe(session, "pantry", after=None)
        new = moved(log, 2)
        await flushed(session)
    assert socket.frames[0] == {"type": "live", "channel": "pantry", "seq": 3}
    assert socket.seqs("pantry") == new


async def test_a_client_that_is_up_to_date_just_goes_live(log: FakeLog) -> None:
    seqs = moved(log, 4)
    async with started(log) as hub, connected(hub, STAFF) as (session, socket):
        await hub.subscribe(session, "pantry", after=seqs[-1])
        await flushed(session)
    assert socket.frames == [{"type": "live", "channel": "pantry", "seq": seqs[-1]}]
    assert log.pages_served == 0


async def test_an_after_the_stream_no_longer_holds_or_never_had_is_a_reset(log: FakeLog) -> None:
    seqs = moved(log, 10)
    log.drop_before("KITCHEN", seqs[5])
    async with started(log) as hub, connected(hub, STAFF) as (session, socket):
        await hub.subscribe(session, "pantry", after=seqs[3])
        await hub.subscribe(session, "pantry", after=seqs[-1] + 50)
        await hub.subscribe(session, "pantry", after=seqs[4])  # the next one is still there: no reset
        await flushed(session)
    too_old, too_new = socket.of("reset", "pantry")
    assert "no longer holds the events after 4" in too_old["reason"]
    assert "has no event 60" in too_new["reason"]
    assert socket.seqs("pantry") == seqs[5:]


async def test_a_customer_gets_only_their_own_orders_and_staff_get_every_one(log: FakeLog) -> None:
    before = [placed(log, "alice"), placed(log, "bob")]
    live, (alice, bob, staff) = await watching(
        log, "orders", (ALICE, BOB, STAFF), lambda: [placed(log, "alice"), placed(log, "bob"), placed(log, "carol")]
    )
    assert alice.seqs("orders") == [before[0], live[0]]
    assert bob.seqs("orders") == [before[1], live[1]]
    assert staff.seqs("orders") == sorted(before + live)
    assert {f["event"]["data"]["customer_id"] for f in alice.of("event")} == {"alice"}


async def test_the_steps_of_a_customers_order_journey_are_theirs_and_staffs(log: FakeLog) -> None:
    def step(customer: str) -> int:
        return log.append("KITCHEN", JOURNEY_STEP, envelope(JOURNEY_STEP, order_id="o", customer_id=customer, key="k"))

    before = [step("alice"), placed(log, "alice"), step("bob")]
    live, (alice, bob, staff) = await watching(log, "orders", (ALICE, BOB, STAFF), lambda: [step("bob"), step("alice")])
    assert alice.seqs("orders") == [before[0], before[1], live[1]]
    assert bob.seqs("orders") == [before[2], live[0]]
    assert staff.seqs("orders") == sorted(before + live)


async def test_everyone_staff_included_gets_only_their_own_notifications(log: FakeLog) -> None:
    before = [notified(log, "alice"), notified(log, "sam")]
    live, (alice, sam, chef) = await watching(
        log,
        "notifications",
        (ALICE, STAFF, CHEF),
        lambda: [notified(log, "alice", NOTIFICATIONS_READ), notified(log, "sam"), notified(log, "bob")],
    )
    assert alice.seqs("notifications") == [before[0], live[0]]
    assert sam.seqs("notifications") == [before[1], live[1]]
    assert chef.seqs("notifications") == []
    assert [f["event"]["type"] for f in alice.of("event")] == [NOTIFICATION_CREATED, NOTIFICATIONS_READ]


async def test_customers_may_not_watch_the_pantry_or_the_stock_and_unknown_channels_are_named(log: FakeLog) -> None:
    async with started(log) as hub, connected(hub, ALICE) as (session, socket):
        for channel in ("pantry", "stock", "cellar"):
            await hub.subscribe(session, channel, after=None)
        moved(log, 2)
        await flushed(session)
    forbidden_pantry, forbidden_stock, unknown = socket.of("error")
    assert forbidden_pantry["code"] == forbidden_stock["code"] == "forbidden"
    assert "for staff" in forbidden_stock["message"]
    assert unknown["code"] == "unknown-channel" and "orders, pantry, stock" in unknown["message"]
    assert socket.of("event") == [] and session.subscriptions == {}


async def test_the_stock_channel_carries_movements_and_purchases_not_commands(log: FakeLog) -> None:
    async with started(log) as hub, connected(hub, STAFF) as (session, socket):
        await hub.subscribe(session, "stock", after=None)
        log.append("WAREHOUSE", SUPPLY_CMD, envelope(SUPPLY_CMD, request_id="r"))
        wanted = [
            log.append("WAREHOUSE", STOCK_MOVED, envelope(STOCK_MOVED, movement_id=1)),
            log.append("WAREHOUSE", PURCHASE_MADE, envelope(PURCHASE_MADE, purchase_id=1)),
        ]
        await flushed(session)
    assert socket.seqs("stock") == wanted


async def test_what_is_not_an_envelope_or_not_the_channels_never_goes_out(log: FakeLog) -> None:
    async with started(log) as hub, connected(hub, STAFF) as (session, socket):
        await hub.subscribe(session, "orders", after=None)
        await hub.subscribe(session, "pantry", after=None)
        log.append("KITCHEN", PANTRY_MOVED, b"\xff not json")
        log.append("KITCHEN", PANTRY_MOVED, b'{"type": "x", "data": [1]}')
        log.append("KITCHEN", PANTRY_MOVED, b'"just a string"')
        log.append("KITCHEN", ORDER_EXPIRY_DUE, envelope(ORDER_EXPIRY_DUE, order_id="o"))
        good = moved(log)
        await flushed(session)
    assert socket.seqs("pantry") == good and socket.seqs("orders") == []


async def test_a_socket_that_does_not_keep_up_is_closed_and_the_others_get_everything(log: FakeLog) -> None:
    async with (
        started(log) as hub,
        connected(hub, STAFF, queue_frames=10) as (slow, slow_socket),
        connected(hub, STAFF, queue_frames=10) as (fast, fast_socket),
    ):
        for session in (slow, fast):
            await hub.subscribe(session, "pantry", after=None)
        await flushed(slow)
        slow_socket.stalled = True
        sent = []
        for _ in range(40):  # a burst the fast socket drains as it goes
            sent += moved(log)
            await asyncio.sleep(0)
        await flushed(fast)
        assert slow.closed and slow.close_code == protocol.TOO_SLOW
        await slow.closed_by_server()
        assert slow_socket.closed == (protocol.TOO_SLOW, "the client does not keep up with its events")
        assert fast_socket.seqs("pantry") == sent
        assert slow not in {s.session for s in hub.feeds["pantry"].subscriptions}
        slow_socket.resume()


async def test_a_catch_up_outrun_by_live_events_is_closed(log: FakeLog) -> None:
    history = moved(log, 50)
    async with started(log, held_frames=20) as hub, connected(hub, STAFF) as (session, socket):
        socket.stalled = True
        replay = asyncio.create_task(hub.subscribe(session, "pantry", after=history[0]))
        await eventually(lambda: "pantry" in session.subscriptions, 5, "the subscription made")
        moved(log, 21)
        assert session.closed and session.close_code == protocol.TOO_SLOW
        socket.resume()
        await replay


async def test_unsubscribing_stops_the_events_and_subscribing_again_replaces(log: FakeLog) -> None:
    async with started(log) as hub, connected(hub, STAFF) as (session, socket):
        await hub.subscribe(session, "pantry", after=None)
        first = moved(log)
        hub.unsubscribe(session, "pantry")
        moved(log)
        await hub.subscribe(session, "pantry", after=None)
        await hub.subscribe(session, "pantry", after=None)  # again: still one subscription
        last = moved(log)
        await flushed(session)
        assert len(hub.feeds["pantry"].subscriptions) == 1
    assert socket.seqs("pantry") == first + last


async def test_a_feed_ignores_what_a_restarted_consumer_hands_over_again(log: FakeLog) -> None:
    async with started(log) as hub, connected(hub, STAFF) as (session, socket):
        await hub.subscribe(session, "pantry", after=None)
        seqs = moved(log, 3)
        for stored in log.streams["KITCHEN"]:
            hub.feeds["pantry"].deliver(stored)  # delivered twice
        await flushed(session)
    assert socket.seqs("pantry") == seqs
