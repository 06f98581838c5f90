"""Every route on real PostgreSQL and NATS: a user sees, pages through and reads only their own
notifications; staff see the mail queue; problems come as problem+json."""

from __future__ import annotations

import uuid

from services.notifications.tests.integration.harness import LIST, MAIL, Publisher, Service


async def test_a_user_pages_through_their_own_notifications_newest_first_and_reads_them(
    service: Service, publisher: Publisher
) -> None:
    for version, status in enumerate(("pending", "reserved", "served"), start=1):
        await publisher.order("ana", status, version)
    await publisher.order("bob", "pending", 1, order_id="o-2")
    assert await service.wait_titles("ana", 3) == ["Order served", "Ready for payment", "Order received"]
    await service.wait_titles("bob", 1)

    first = await service.notifications("ana", limit=2)
    assert [n["title"] for n in first["items"]] == ["Order served", "Ready for payment"]
    assert first["unread"] == 3 and first["next_cursor"]
    rest = await service.notifications("ana", limit=2, cursor=first["next_cursor"])
    assert [n["title"] for n in rest["items"]] == ["Order received"] and rest["next_cursor"] is None
    assert rest["items"][0]["data"]["order_id"] == "o-1" and rest["items"][0]["read_at"] is None

    oldest = rest["items"][0]["id"]
    theirs = await service.http.post(f"{LIST}/{oldest}/read", headers=service.auth("bob"))
    assert theirs.status_code == 404, "someone else's notification does not exist for bob"
    assert theirs.headers["content-type"].startswith("application/problem+json")
    read = await service.http.post(f"{LIST}/{oldest}/read", headers=service.auth("ana"))
    assert read.status_code == 200 and read.json()["read_at"]
    again = await service.http.post(f"{LIST}/{oldest}/read", headers=service.auth("ana"))
    assert again.json()["read_at"] == read.json()["read_at"]
    assert (await service.notifications("ana"))["unread"] == 2

    for missing in (str(uuid.uuid4()), "not-a-uuid"):
        r = await service.http.post(f"{LIST}/{missing}/read", headers=service.auth("ana"))
        assert r.status_code == 404, missing
    everything = await service.http.post(f"{LIST}/read-all", headers=service.auth("ana"))
    assert everything.json() == {"marked": 2, "unread": 0}
    assert (await service.notifications("ana"))["unread"] == 0
    assert (await service.notifications("bob"))["unread"] == 1, "bob's stay unread"


async def test_without_a_token_nothing_is_shown_and_the_mail_queue_is_for_staff_only(service: Service) -> None:
    for method, path in (("GET", LIST), ("POST", f"{LIST}/read-all"), ("GET", MAIL)):
        assert (await service.http.request(method, path)).status_code == 401, path
    customer = await service.http.get(MAIL, headers=service.auth("ana"))
    assert customer.status_code == 403
    assert (await service.http.get(MAIL, headers=service.auth("chef", ("staff",)))).json() == {
        "items": [],
        "next_cursor": None,
    }
    retry = await service.http.post(f"{MAIL}/{uuid.uuid4()}/retry", headers=service.auth("chef", ("staff",)))
    assert retry.status_code == 404
    assert (await service.http.post(f"{MAIL}/{uuid.uuid4()}/retry", headers=service.auth("ana"))).status_code == 403


async def test_the_staff_mail_log_shows_what_was_sent_to_whom_and_a_sent_mail_cannot_be_retried(
    service: Service, publisher: Publisher
) -> None:
    await publisher.user("ana")

    async def sent() -> list[dict[str, object]]:
        return await service.mail("sent")

    from brigade_common.testing.waiting import eventually

    (mail,) = await eventually(sent, 15, "the welcome mail sent")
    assert (mail["to"], mail["subject"], mail["attempts"]) == ("ana@example.com", "Welcome to Brigade, Ana", 1)
    assert await service.mail("failed") == []
    again = await service.http.post(f"{MAIL}/{mail['id']}/retry", headers=service.auth("chef", ("staff",)))
    assert again.status_code == 409 and again.json()["type"].endswith("/mail-not-failed")
