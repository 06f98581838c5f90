"""The warehouse's events as the messages other services read: the wire contracts, mapped here only."""

from __future__ import annotations

from brigade_common.messaging import Outgoing
from brigade_contracts import warehouse as w
from brigade_warehouse.domain.events import Event, PurchaseMade, StockMoved, SupplyDelivered, SupplyFailed


def outgoing(event: Event) -> Outgoing:
    """The message `event` becomes (the events are flat dataclasses: `vars` is their fields)."""
    match event:
        case SupplyDelivered():
            return Outgoing(w.SUPPLY_DELIVERED, w.SupplyDelivered(**vars(event)))
        case SupplyFailed():
            return Outgoing(w.SUPPLY_FAILED, w.SupplyFailed(**vars(event)))
        case StockMoved():
            return Outgoing(w.STOCK_MOVED, w.StockMoved(**vars(event)))
        case PurchaseMade():
            return Outgoing(w.PURCHASE_MADE, w.PurchaseMade(**vars(event)))
    raise TypeError(f"no message for {type(event).__name__}")
