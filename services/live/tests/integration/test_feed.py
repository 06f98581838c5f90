"""The feed against a real nats-server and real sockets: resume, reset, who sees what, signing in."""

from __future__ import annotations

import time

import pytest

from brigade_common.testing.inprocess import TestKeys
from brigade_contracts.kitchen import JOURNEY_STEP, PANTRY_MOVED
from services.live.tests.integration.harness import LiveServer, client, live_server

CLOSED_UNAUTHENTICATED = 4401
# Short, for the test that waits it out; every other test keeps the service's own grace.
SHORT_GRACE_S = 0.5


@pytest.mark.parametrize("missed", [1, 1_000, 50_000])
async def test_a_client_that_comes_back_gets_exactly_the_events_it_missed(live: LiveServer, missed: int) -> None:
    applied = await live.publish_many(PANTRY_MOVED, 5, ingredient="pan")
    gone = await live.publish_many(PANTRY_MOVED, missed, ingredient="pan")
    async with client(live, live.token()) as c:
        started = time.perf_counter()
        await c.send({"type": "subscribe", "channel": "pantry", "after": applied[-1]})
        live_frame = await c.until("live", "pantry", timeout=120)
        elapsed = time.perf_counter() - started
        assert c.seqs("pantry") == gone  # exactly those, once each, in order
        assert live_frame["seq"] == gone[-1]
        after = await live.moved(2)
        await c.until_seq("pantry", after[-1])
        assert c.seqs("pantry") == gone + after
    print(f"\ncaught up {missed} events in {elapsed:.2f}s ({missed / elapsed:,.0f}/s)")


async def test_a_client_without_after_gets_only_what_comes_next(live: LiveServer) -> None:
    seqs = await live.moved(3)
    # Stored is not yet seen: the feed follows the stream a moment behind. A client that replays them
    # has them all once the feed has reached the last one (by the replay, or live).
    async with client(live, live.token()) as early:
        await early.send({"type": "subscribe", "channel": "pantry", "after": seqs[0]})
        await early.until_seq("pantry", seqs[-1])
    async with client(live, live.token()) as c:
        await c.send({"type": "subscribe", "channel": "pantry"})
        assert (await c.until("live", "pantry"))["seq"] == 3
        new = await live.moved(2)
        await c.until_seq("pantry", new[-1])
        assert c.seqs("pantry") == new


async def test_an_after_older_than_the_stream_keeps_is_a_reset(live: LiveServer) -> None:
    seqs = await live.moved(10)
    await live.nc.jetstream().purge_stream("KITCHEN", seq=seqs[6])  # keeps 7 onwards
    async with client(live, live.token()) as c:
        await c.send({"type": "subscribe", "channel": "pantry", "after": seqs[2]})
        reset = await c.until("reset", "pantry")
        assert "no longer holds the events after 3" in reset["reason"]
        await c.send({"type": "subscribe", "channel": "pantry", "after": seqs[5]})
        await c.until("live", "pantry")
        assert c.seqs("pantry") == seqs[6:]


async def test_a_customer_never_receives_another_customers_order(live: LiveServer) -> None:
    async with (
        client(live, live.token("alice", ("customer",))) as alice,
        client(live, live.token("sam", ("staff",))) as staff,
    ):
        earlier = [await live.placed("bob"), await live.placed("alice")]
        for c in (alice, staff):
            await c.send({"type": "subscribe", "channel": "orders", "after": 0})
            await c.until("live", "orders")
        later = [await live.placed("bob"), await live.placed("alice"), await live.placed("carol")]
        await staff.until_seq("orders", later[-1])
        await alice.send({"type": "ping"})
        await alice.until("pong")  # everything sent to alice before the pong has arrived
        assert alice.seqs("orders") == [earlier[1], later[1]]
        assert {f["event"]["data"]["customer_id"] for f in alice.of("event")} == {"alice"}
        assert staff.seqs("orders") == earlier + later
        await alice.send({"type": "subscribe", "channel": "stock"})
        refused = await alice.until("error")
        assert refused["code"] == "forbidden"


async def test_the_orders_channel_carries_each_journey_step_to_its_owner_and_staff_only(live: LiveServer) -> None:
    def step(customer: str, key: str) -> dict[str, object]:
        return {"order_id": f"order-of-{customer}", "customer_id": customer, "key": key, "kind": "purchased"}

    async with (
        client(live, live.token("alice", ("customer",))) as alice,
        client(live, live.token("sam", ("staff",))) as staff,
    ):
        # Replayed: a step of each, an order event between them, and a pantry movement the channel skips.
        earlier = [
            await live.publish(JOURNEY_STEP, step("alice", "requested:r1")),
            await live.placed("alice"),
            await live.publish(JOURNEY_STEP, step("bob", "requested:r2")),
        ]
        await live.moved(1)
        for c in (alice, staff):
            await c.send({"type": "subscribe", "channel": "orders", "after": 0})
            await c.until("live", "orders")
        later = [
            await live.publish(JOURNEY_STEP, step("bob", "purchase:7")),
            await live.publish(JOURNEY_STEP, step("alice", "purchase:8")),
        ]
        await staff.until_seq("orders", later[-1])
        await alice.send({"type": "ping"})
        await alice.until("pong")
        assert alice.seqs("orders") == [earlier[0], earlier[1], later[1]]
        assert [f["event"]["type"] for f in alice.of("event")] == [
            JOURNEY_STEP,
            "kitchen.order.placed.v1",
            JOURNEY_STEP,
        ]
        assert {f["event"]["data"]["customer_id"] for f in alice.of("event")} == {"alice"}
        assert staff.seqs("orders") == earlier + later


async def test_each_user_staff_included_gets_only_their_own_notifications(live: LiveServer) -> None:
    async with (
        client(live, live.token("alice", ("customer",))) as alice,
        client(live, live.token("sam", ("staff",))) as sam,
        client(live, live.token("root", ("admin", "staff"))) as admin,
    ):
        earlier = [await live.notified("alice", unread=1), await live.notified("sam", unread=4)]
        for c in (alice, sam, admin):
            await c.send({"type": "subscribe", "channel": "notifications", "after": 0})
            await c.until("live", "notifications")
        later = [await live.notified("bob"), await live.notified("alice", unread=2), await live.read_all("alice")]
        later.append(await live.notified("sam", unread=5))
        await sam.until_seq("notifications", later[-1])
        await alice.until_seq("notifications", later[2])
        for c in (alice, admin):
            await c.send({"type": "ping"})
            await c.until("pong")  # everything sent before the pong has arrived
        assert alice.seqs("notifications") == [earlier[0], later[1], later[2]]
        assert [(f["event"]["type"], f["event"]["data"]["unread"]) for f in alice.of("event")] == [
            ("notifications.notification.created.v1", 1),
            ("notifications.notification.created.v1", 2),
            ("notifications.notification.read.v1", 0),
        ]
        assert sam.seqs("notifications") == [earlier[1], later[3]], "staff see no one else's notifications"
        assert {f["event"]["data"]["user_id"] for f in sam.of("event")} == {"sam"}
        assert admin.of("event") == []


async def test_a_socket_that_never_signs_in_is_closed(nats_url: str, keys: TestKeys) -> None:
    async with live_server(nats_url, keys, auth_grace_s=SHORT_GRACE_S) as live:
        async with client(live) as c:
            started = time.perf_counter()
            assert await c.closed() == CLOSED_UNAUTHENTICATED
            assert time.perf_counter() - started >= SHORT_GRACE_S * 0.8  # the grace period first
        async with client(live) as c:
            await c.send({"type": "subscribe", "channel": "pantry"})  # not signing in first
            assert await c.closed() == CLOSED_UNAUTHENTICATED
            assert c.of("event") == []


async def test_a_token_that_expires_closes_the_socket_unless_a_fresh_one_came(live: LiveServer) -> None:
    async with client(live, live.token(ttl_s=1)) as stale:
        assert await stale.closed(timeout=5) == CLOSED_UNAUTHENTICATED
    async with client(live, live.token(ttl_s=1)) as kept:
        await kept.send({"type": "auth", "token": live.token(ttl_s=3600)})
        assert (await kept.until("ready"))["expires_at"] > time.time() + 3000
        await kept.send({"type": "subscribe", "channel": "pantry"})
        await kept.until("live", "pantry")
        later = await live.moved()
        await kept.until_seq("pantry", later[-1])  # still open past the first token's expiry
        await kept.send({"type": "auth", "token": live.token("someone-else")})
        assert await kept.closed() == CLOSED_UNAUTHENTICATED


async def test_a_bad_frame_is_answered_and_the_socket_stays(live: LiveServer) -> None:
    async with client(live, live.token()) as c:
        await c.ws.send("{nope")
        assert (await c.until("error"))["code"] == "bad-frame"
        await c.send({"type": "subscribe", "channel": "pantry", "after": -3})
        assert "after" in (await c.until("error"))["message"]
        await c.send({"type": "subscribe", "channel": "pantry"})
        await c.until("live", "pantry")


async def test_the_server_pings(nats_url: str, keys: TestKeys) -> None:
    async with live_server(nats_url, keys, ping_s=0.2) as live, client(live, live.token()) as c:
        await c.until("ping", timeout=5)
