"""The e-mail bodies: HTML that shows whatever the facts hold as text (seed 002 put a dish's HTML
straight into the admin's mail), and a plain-text part that shows it as it is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from brigade_contracts.auth import Role
from brigade_contracts.kitchen import OrderStatus
from brigade_notifications.adapters.templates import JinjaRenderer
from brigade_notifications.domain import rules
from brigade_notifications.domain.facts import NewDish, OrderChange, Payment, Registration
from brigade_notifications.domain.model import EMAILED, Kind, Notice, User

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SCRIPT = "<script>alert('pwned')</script>"
renderer = JinjaRenderer("https://kitchen.test/")


def every_emailed_notice(text: str) -> list[Notice]:
    """One notice of every e-mailed kind, with `text` in every field a user or a service can write."""
    user = User("u", "u@example.com", text, frozenset({Role.STAFF}))
    pay = Payment("p", "o", "u", 100, text)
    notices = [
        rules.welcome(Registration("u", "u@example.com", text, frozenset()), AT),
        rules.receipt(pay, AT),
        rules.refunded(pay, AT),
        *rules.dish_added(NewDish("d", text, text, 100), [user], AT),
    ]
    for status in (OrderStatus.RESERVED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.FAILED):
        notices.append(rules.order_changed(OrderChange("o", "u", text, 1, 100, status, 2, AT, text), AT))
    assert {n.kind for n in notices} == EMAILED
    return notices


@pytest.mark.parametrize("notice", every_emailed_notice(SCRIPT), ids=lambda n: n.kind.value)
def test_markup_in_any_fact_arrives_escaped_in_the_html_and_as_is_in_the_text(notice: Notice) -> None:
    mail = renderer.render(notice, SCRIPT)
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in mail.html
    assert SCRIPT in mail.text
    assert "&lt;" not in mail.text


def test_a_dish_mail_shows_the_dish_and_links_to_the_menu() -> None:
    (notice,) = rules.dish_added(
        NewDish("arepa", "Arepa", "Corn bread", 350), [User("chef", "c@x", "Chef", frozenset({Role.STAFF}))], AT
    )
    mail = renderer.render(notice, "Chef")
    assert "Hello Chef," in mail.text
    assert "Price: 3.50" in mail.text
    assert 'href="https://kitchen.test/"' in mail.html


def test_an_order_mail_links_to_the_order_and_greets_a_recipient_not_known_yet_without_a_name() -> None:
    notice = rules.order_changed(OrderChange("o-9", "u", "Pan", 1, 100, OrderStatus.RESERVED, 2, AT), AT)
    mail = renderer.render(notice, None)
    assert mail.text.startswith("Hello,\n")
    assert "See your order: https://kitchen.test/orders/o-9" in mail.text
    assert notice.kind is Kind.ORDER_RESERVED
