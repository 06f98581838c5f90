"""E-mail through a real SMTP server: what arrives, once; with SMTP down the notifications keep
coming and the mail follows when it is back; what is given up on is listed and can be sent again."""

from __future__ import annotations

import pytest
import structlog

from brigade_common.devservers import free_port
from brigade_common.testing.inprocess import TestKeys
from brigade_common.testing.waiting import eventually
from services.notifications.tests.integration.harness import MAIL, Publisher, Service, migrate, running
from services.notifications.tests.integration.smtp_server import SmtpCatcher

STAFF = ("staff",)


async def arrived(smtp: SmtpCatcher, address: str, count: int) -> list[str]:
    async def enough() -> list[str] | None:
        subjects = smtp.subjects(address)
        return subjects if len(subjects) >= count else None

    return await eventually(enough, 15, f"{count} mails to {address}")


async def test_a_welcome_arrives_as_text_and_html_with_a_message_id_of_its_cause(
    service: Service, publisher: Publisher, smtp: SmtpCatcher
) -> None:
    await publisher.user("ana", name="Ana")
    assert await arrived(smtp, "ana@example.com", 1) == ["Welcome to Brigade, Ana"]
    (mail,) = smtp.received
    msg = mail.message
    assert msg["From"] == "Brigade <notifications@brigade.local>"
    assert msg["To"] == "ana@example.com"
    assert msg["Message-ID"].endswith("@notifications.brigade.local>")
    assert msg.get_content_type() == "multipart/alternative"
    assert "Hello Ana," in mail.part("plain")
    assert "<h1" in mail.part("html") and "Welcome to Brigade, Ana" in mail.part("html")
    (logged,) = await eventually(lambda: service.mail("sent"), 15, "the mail in the sent-mail log")
    assert logged["message_id"] == msg["Message-ID"]


async def test_a_redelivered_event_sends_nothing_twice(
    service: Service, publisher: Publisher, smtp: SmtpCatcher
) -> None:
    await publisher.user("ana")
    reserved = await publisher.order("ana", "reserved", 2)
    # The same event again: under its own id (past the stream's duplicate window the inbox drops it)
    # and under a new id (a replay that re-wrapped it: the cause is the same order version).
    nc = service.app.nc
    await nc.jetstream().publish(reserved.type, reserved.to_bytes(), headers={"Nats-Msg-Id": "redelivered"})
    await publisher.order("ana", "reserved", 2)
    await publisher.order("ana", "served", 3)  # in-app only: once it is there, the repeats were handled
    await service.wait_titles("ana", 3)
    await eventually(lambda: len(smtp.to("ana@example.com")) >= 2, 15, "the welcome and the order mail")
    info = await nc.jetstream().consumer_info("KITCHEN", "notifications-orders")
    assert info.num_ack_pending == 0 and info.num_pending == 0
    assert await service.titles("ana") == ["Order served", "Ready for payment", "Welcome to Brigade, Ana"]
    assert smtp.subjects("ana@example.com") == ["Welcome to Brigade, Ana", "Ready for payment"]
    assert len({m["message_id"] for m in await service.mail()}) == 2


async def test_with_smtp_down_notifications_keep_flowing_and_the_mail_arrives_once_it_is_back(
    service: Service, publisher: Publisher, smtp: SmtpCatcher
) -> None:
    await smtp.stop()  # SMTP is down: nothing listens on its port
    await publisher.user("ana")
    await publisher.order("ana", "reserved", 2)

    async def retried() -> bool:
        queued = await service.mail("queued")
        return len(queued) == 2 and all(m["attempts"] >= 2 and m["last_error"] for m in queued)

    await eventually(retried, 15, "both mails tried and waiting")
    await publisher.order("ana", "served", 3)
    assert await service.wait_titles("ana", 3) == ["Order served", "Ready for payment", "Welcome to Brigade, Ana"]
    assert smtp.received == []

    await smtp.start()
    assert sorted(await arrived(smtp, "ana@example.com", 2)) == ["Ready for payment", "Welcome to Brigade, Ana"]

    async def all_sent() -> bool:
        return (await service.mail("queued")) == [] and len(await service.mail("sent")) == 2

    await eventually(all_sent, 15, "every mail marked sent")
    await publisher.order("ana", "cancelled", 4)
    await arrived(smtp, "ana@example.com", 3)  # the sender went round again since: no repeats
    assert sorted(smtp.subjects("ana@example.com")) == [
        "Order cancelled",
        "Ready for payment",
        "Welcome to Brigade, Ana",
    ]


@pytest.mark.parametrize("notifications_settings", [{"mail_max_attempts": 2}])
async def test_mail_given_up_on_is_listed_for_staff_and_arrives_when_sent_again(
    service: Service, publisher: Publisher, smtp: SmtpCatcher
) -> None:
    await smtp.stop()
    await publisher.user("ana")

    async def failed() -> list[dict[str, object]]:
        return await service.mail("failed")

    (mail,) = await eventually(failed, 15, "the mail given up on")
    assert mail["attempts"] == 2 and mail["to"] == "ana@example.com" and mail["last_error"]
    await smtp.start()
    retried = await service.http.post(f"{MAIL}/{mail['id']}/retry", headers=service.auth("chef", STAFF))
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    assert await arrived(smtp, "ana@example.com", 1) == ["Welcome to Brigade, Ana"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_no_password_or_token_reaches_a_mail_or_a_log_line(
    database_url: str, nats_url: str, publisher: Publisher
) -> None:
    password = "s3cret-smtp-pass"
    smtp = await SmtpCatcher(free_port(), login=("brigade", password)).start()
    keys = TestKeys()
    await migrate(database_url)
    try:
        with structlog.testing.capture_logs() as logs:
            async with running(
                database_url, nats_url, keys, smtp_port=smtp.port, smtp_username="brigade", smtp_password=password
            ) as service:
                token = keys.token("ana")
                await publisher.user("ana")
                await publisher.order("ana", "reserved", 2)
                await service.http.get("/api/notifications/notifications", headers={"Authorization": f"Bearer {token}"})
                await arrived(smtp, "ana@example.com", 2)
                log_page = (await service.http.get(MAIL, headers=service.auth("chef", STAFF))).text
    finally:
        await smtp.stop()
    assert smtp.logins == [("brigade", password)] * len(smtp.logins) and smtp.logins
    everything = [str(logs), log_page, *(r.message.as_string() for r in smtp.received)]
    for text in everything:
        assert password not in text
        assert token not in text
        assert "password" not in text.lower()
