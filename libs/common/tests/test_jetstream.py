"""Provisioning is idempotent, updates a changed stream, and schedules fire on time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nats.aio.client import Client as NATS

from brigade_common.jetstream import durable_pull_config, ensure_consumer, ensure_stream, stream_config


async def test_streams_and_consumers_are_created_once_and_updated_in_place(nc: NATS) -> None:
    js = nc.jetstream()
    await ensure_stream(js, stream_config("KITCHEN", ["kitchen.>"], allow_msg_schedules=True))
    await js.publish("kitchen.order.placed.v1", b"{}")
    await ensure_stream(js, stream_config("KITCHEN", ["kitchen.>"], allow_msg_schedules=True))
    await ensure_stream(js, stream_config("KITCHEN", ["kitchen.>"], max_age_s=3600, allow_msg_schedules=True))
    info = await js.stream_info("KITCHEN")
    assert info.state.messages == 1  # nothing was recreated
    assert info.config.max_age == 3600
    await ensure_consumer(js, "KITCHEN", durable_pull_config("c", ["kitchen.order.*.v1"], max_deliver=3))
    await ensure_consumer(js, "KITCHEN", durable_pull_config("c", ["kitchen.order.*.v1"], max_deliver=5))
    assert (await js.consumer_info("KITCHEN", "c")).config.max_deliver == 5


async def test_a_scheduled_message_fires_once_at_its_time_on_the_target_subject(nc: NATS) -> None:
    js = nc.jetstream()
    await ensure_stream(js, stream_config("KITCHEN", ["kitchen.>"], allow_msg_schedules=True))
    # The server writes the fired message straight into the stream: read it there.
    sub = await js.subscribe("kitchen.order.expiry_due.v1", stream="KITCHEN", ordered_consumer=True)
    at = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0) + timedelta(seconds=1)
    await js.publish(
        "kitchen.schedule.order_expiry.o1",
        b'{"order_id": "o1"}',
        headers={
            "Nats-Schedule": f"@at {at.strftime('%Y-%m-%dT%H:%M:%SZ')}",
            "Nats-Schedule-Target": "kitchen.order.expiry_due.v1",
        },
    )
    msg = await sub.next_msg(timeout=10)
    assert msg.data == b'{"order_id": "o1"}'
    assert datetime.now(UTC) >= at - timedelta(milliseconds=50)
    # It fired once: nothing else arrives on the target.
    try:
        extra = await sub.next_msg(timeout=1.5)
    except TimeoutError:
        extra = None
    assert extra is None
