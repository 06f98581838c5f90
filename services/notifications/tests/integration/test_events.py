"""What the service tells the live feed, on real PostgreSQL and NATS: each stored notification once
(however often its cause is delivered), notifications read, each with the unread count, through
the outbox."""

from __future__ import annotations

from brigade_common.envelope import MSG_ID
from brigade_common.outbox import pending_count
from brigade_common.testing.waiting import eventually
from brigade_contracts.kitchen import OrderSnapshot
from brigade_contracts.notifications import NOTIFICATION_CREATED, NOTIFICATIONS_READ
from services.notifications.tests.integration.harness import LIST, Publisher, Service


async def test_a_stored_notification_is_published_once_even_when_its_cause_comes_twice(
    service: Service, publisher: Publisher
) -> None:
    placed = await publisher.order("ana", "pending", 1)
    # The same envelope delivered again (past the broker's de-duplication): the inbox has it.
    await service.app.nc.jetstream().publish(placed.type, placed.to_bytes(), headers={MSG_ID: "again"})
    # The same cause re-sent under a new envelope id: the notification's source has it.
    await publisher.publish(placed.type, OrderSnapshot.model_validate(placed.data))
    await publisher.order("ana", "reserved", 2)
    await service.wait_titles("ana", 2)
    await eventually(lambda: _all_handled(service, "KITCHEN", "notifications-orders"), 15, "every order event handled")
    await publisher.user("bob")
    await service.wait_titles("bob", 1)

    events = await service.events(NOTIFICATION_CREATED, 3)
    by_ana = [e for e in events if e.data["user_id"] == "ana"]
    stored = (await service.notifications("ana"))["items"]
    assert [e.data["notification_id"] for e in by_ana] == [n["id"] for n in reversed(stored)]
    assert [(e.data["title"], e.data["unread"]) for e in by_ana] == [("Order received", 1), ("Ready for payment", 2)]
    assert by_ana[0].causation_id == placed.id and by_ana[0].correlation_id == placed.correlation_id
    assert by_ana[1].data["data"]["order_id"] == "o-1" and by_ana[1].data["kind"] == "order_reserved"
    (welcome,) = [e for e in events if e.data["user_id"] == "bob"]
    assert "bob@example.com" not in welcome.to_bytes().decode(), "no address ever goes out"
    await eventually(lambda: _outbox_empty(service), 15, "the outbox relayed")


async def test_reading_is_published_with_the_count_left_and_reading_again_is_not(
    service: Service, publisher: Publisher
) -> None:
    for version, status in enumerate(("pending", "reserved", "served"), start=1):
        await publisher.order("ana", status, version)
    await service.wait_titles("ana", 3)
    oldest = (await service.notifications("ana"))["items"][-1]["id"]
    for _ in range(2):
        r = await service.http.post(f"{LIST}/{oldest}/read", headers=service.auth("ana"))
        assert r.status_code == 200
    assert (await service.http.post(f"{LIST}/read-all", headers=service.auth("ana"))).json()["marked"] == 2
    await service.http.post(f"{LIST}/read-all", headers=service.auth("ana"))  # nothing left: nothing sent

    await eventually(lambda: _outbox_empty(service), 15, "the outbox relayed")
    assert len(await service.events(NOTIFICATION_CREATED, 3)) == 3
    read = await service.events(NOTIFICATIONS_READ, 2)
    assert [e.data for e in read] == [
        {"user_id": "ana", "notification_ids": [oldest], "all": False, "unread": 2},
        {"user_id": "ana", "notification_ids": [], "all": True, "unread": 0},
    ]


async def _all_handled(service: Service, stream: str, consumer: str) -> bool:
    info = await service.app.nc.jetstream().consumer_info(stream, consumer)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def _outbox_empty(service: Service) -> bool:
    return await pending_count(service.db) == 0
