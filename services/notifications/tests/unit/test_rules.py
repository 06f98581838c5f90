"""Which events make which notifications, for whom, and which of them are e-mailed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from brigade_contracts.auth import Role
from brigade_contracts.kitchen import OrderStatus
from brigade_notifications.domain import rules
from brigade_notifications.domain.facts import NewDish, OrderChange, Payment, Registration
from brigade_notifications.domain.model import Kind, User

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def order(status: OrderStatus, version: int = 1, **kw: object) -> OrderChange:
    return OrderChange("o-1", "ana", "Pan simple", 2, 1250, status, version, **kw)  # type: ignore[arg-type]


def test_a_sign_up_welcomes_the_new_user_by_name_and_by_mail() -> None:
    notice = rules.welcome(Registration("ana", "ana@example.com", "Ana", frozenset({Role.CUSTOMER})), AT)
    assert (notice.user_id, notice.kind, notice.emailed) == ("ana", Kind.WELCOME, True)
    assert notice.title == "Welcome to Brigade, Ana"


@pytest.mark.parametrize(
    ("status", "kind", "emailed"),
    [
        (OrderStatus.PENDING, Kind.ORDER_PLACED, False),
        (OrderStatus.RESERVED, Kind.ORDER_RESERVED, True),
        (OrderStatus.SERVED, Kind.ORDER_SERVED, False),
        (OrderStatus.CANCELLED, Kind.ORDER_CANCELLED, True),
        (OrderStatus.EXPIRED, Kind.ORDER_EXPIRED, True),
        (OrderStatus.FAILED, Kind.ORDER_FAILED, True),
    ],
)
def test_every_state_an_order_enters_is_told_to_its_customer(status: OrderStatus, kind: Kind, emailed: bool) -> None:
    notice = rules.order_changed(order(status), AT)
    assert (notice.user_id, notice.kind, notice.emailed) == ("ana", kind, emailed)
    assert "2 × Pan simple" in notice.body


def test_each_version_of_an_order_is_its_own_cause_and_the_same_version_is_the_same_cause() -> None:
    first, again, later = (rules.order_changed(order(OrderStatus.RESERVED, v), AT) for v in (2, 2, 3))
    assert first.source == again.source != later.source


def test_a_reserved_order_says_what_to_pay_and_by_when() -> None:
    notice = rules.order_changed(order(OrderStatus.RESERVED, expires_at=datetime(2026, 12, 1, 12, 15, tzinfo=UTC)), AT)
    assert "pay 12.50 by 12:15 UTC" in notice.body


def test_payments_make_a_receipt_a_refund_notice_and_an_in_app_decline_for_the_customer() -> None:
    pay = Payment("p-1", "o-1", "ana", 1250, "order expired")
    receipt, refund, declined = rules.receipt(pay, AT), rules.refunded(pay, AT), rules.declined(pay, AT)
    assert [(n.user_id, n.kind, n.emailed) for n in (receipt, refund, declined)] == [
        ("ana", Kind.PAYMENT_RECEIPT, True),
        ("ana", Kind.REFUND, True),
        ("ana", Kind.PAYMENT_DECLINED, False),
    ]
    assert "12.50" in receipt.body and "order expired" in refund.body
    assert len({receipt.source, refund.source, declined.source}) == 3


def test_a_new_dish_is_told_to_every_staff_member_and_to_no_one_else() -> None:
    users = [
        User("ana", "ana@example.com", "Ana", frozenset({Role.CUSTOMER})),
        User("chef", "chef@example.com", "Chef", frozenset({Role.STAFF})),
        User("boss", "boss@example.com", "Boss", frozenset({Role.ADMIN})),
        User("sous", None, None, frozenset({Role.STAFF, Role.ADMIN})),
    ]
    notices = rules.dish_added(NewDish("arepa", "Arepa", "Corn bread", 350), users, AT)
    assert [n.user_id for n in notices] == ["chef", "sous"]
    assert {n.kind for n in notices} == {Kind.DISH_ADDED} and all(n.emailed for n in notices)
    assert notices[0].title == "New dish: Arepa"


def test_a_name_with_line_breaks_cannot_add_headers_to_the_mail_subject() -> None:
    notices = rules.dish_added(
        NewDish("x", "Arepa\r\nBcc: everyone@example.com", "", 100),
        [User("chef", "c@example.com", "Chef", frozenset({Role.STAFF}))],
        AT,
    )
    assert notices[0].title == "New dish: Arepa Bcc: everyone@example.com"
