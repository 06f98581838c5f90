"""Every notifications event becomes a message its contract accepts, with nothing of the user's
address in it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from brigade_contracts import CATALOG
from brigade_contracts.auth import Role
from brigade_notifications.adapters.messages import outgoing
from brigade_notifications.domain import rules
from brigade_notifications.domain.events import Event, NotificationCreated, NotificationsRead
from brigade_notifications.domain.facts import Registration
from brigade_notifications.domain.model import Notification

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WELCOME = rules.welcome(Registration("ana", "ana@example.com", "Ana", frozenset({Role.CUSTOMER})), AT)
STORED = Notification("n-1", "ana", WELCOME.kind, WELCOME.title, WELCOME.body, WELCOME.facts, AT)

EVENTS: list[Event] = [
    NotificationCreated(STORED, unread=1),
    NotificationsRead("ana", ("n-1",), everything=False, unread=0),
    NotificationsRead("ana", (), everything=True, unread=0),
]


@pytest.mark.parametrize("event", EVENTS, ids=repr)
def test_each_event_is_a_valid_message_of_its_contract_without_an_address(event: Event) -> None:
    message = outgoing(event)
    model, _ = CATALOG[message.type]
    wire = message.payload.model_dump(mode="json")
    assert model.model_validate(wire).model_dump(mode="json") == wire
    assert wire["user_id"] == "ana"
    assert "ana@example.com" not in message.payload.model_dump_json()


def test_a_created_event_carries_what_the_user_reads_and_the_unread_count() -> None:
    wire = outgoing(NotificationCreated(STORED, unread=4)).payload.model_dump(mode="json")
    assert wire == {
        "notification_id": "n-1",
        "user_id": "ana",
        "kind": "welcome",
        "title": "Welcome to Brigade, Ana",
        "body": WELCOME.body,
        "data": {"display_name": "Ana"},
        "created_at": "2026-12-01T12:00:00Z",
        "unread": 4,
    }
