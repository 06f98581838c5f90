"""Every payments event becomes a message its contract accepts (the mapping builds them unvalidated)."""

from __future__ import annotations

import pytest

from brigade_contracts import CATALOG
from brigade_payments.adapters.messages import outgoing
from brigade_payments.domain.events import Event, PaymentFailed, PaymentRefunded, PaymentSucceeded

EVENTS: list[Event] = [
    PaymentSucceeded("pay-1", "o-1", "alice", 900),
    PaymentFailed("pay-1", "o-1", "alice", 900, "Your card was declined.", "card_declined"),
    PaymentRefunded("pay-1", "o-1", "alice", 900, "the order was expired when the payment reached the kitchen"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_each_event_is_a_valid_message_of_its_contract(event: Event) -> None:
    message = outgoing(event)
    model, _ = CATALOG[message.type]
    wire = message.payload.model_dump(mode="json")
    assert model.model_validate(wire).model_dump(mode="json") == wire
    assert message.type == f"payments.payment.{type(event).__name__.removeprefix('Payment').lower()}.v1"
