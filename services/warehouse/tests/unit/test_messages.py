"""Every warehouse event becomes a message its contract accepts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from brigade_contracts import CATALOG
from brigade_contracts.warehouse import StockReason
from brigade_warehouse.adapters.messages import outgoing
from brigade_warehouse.domain.events import Event, PurchaseMade, StockMoved, SupplyDelivered, SupplyFailed

REQUEST = "6f1c0000-0000-4000-8000-000000000002"
EVENTS: list[Event] = [
    SupplyDelivered(REQUEST, "o1", "lechuga", 3),
    SupplyFailed(REQUEST, "o1", "lechuga", 3, "market unavailable"),
    StockMoved(4, "lechuga", -3, StockReason.SUPPLY, 0, REQUEST, 5, datetime(2025, 3, 14, 12, tzinfo=UTC)),
    PurchaseMade(9, REQUEST, "lechuga", 3, 2, "Proveedor Uno", datetime(2025, 3, 14, 12, tzinfo=UTC)),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_each_event_is_a_valid_message_of_its_contract(event: Event) -> None:
    message = outgoing(event)
    model, _ = CATALOG[message.type]
    wire = message.payload.model_dump(mode="json")
    assert model.model_validate(wire).model_dump(mode="json") == wire
