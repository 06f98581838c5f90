"""The warehouse's errors: one hierarchy, mapped to ack/nak/term in one place."""

from __future__ import annotations


class WarehouseError(Exception):
    """Base of the warehouse's errors."""


class UnknownSupplyRequest(WarehouseError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"no supply request with id {request_id!r}")
        self.request_id = request_id


class RequestSettled(WarehouseError):
    def __init__(self, request_id: str, status: str) -> None:
        super().__init__(f"supply request {request_id} is {status} already")
        self.request_id = request_id


class MarketUnavailable(WarehouseError):
    """The market did not answer in time (down, too slow, or no supplier listening)."""
