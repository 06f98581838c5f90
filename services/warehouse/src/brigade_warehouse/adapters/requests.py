"""Supply requests in PostgreSQL: registered once, read locked, settled at commit."""

from __future__ import annotations

from brigade_common.writes import Session, Table
from brigade_warehouse.domain.events import Event
from brigade_warehouse.domain.model import RequestStatus, SupplyRequest

OPENED = Table.of(
    "supply_requests",
    ("id", "uuid"),
    ("order_id", "text"),
    ("ingredient", "text"),
    ("amount", "bigint"),
    ("deadline", "timestamptz"),
    conflict="ON CONFLICT (id) DO NOTHING",
)
SETTLED = Table.of(
    "supply_requests", ("id", "uuid"), ("status", "text"), ("reason", "text"), key="id", on_update="resolved_at = now()"
)


class PostgresRequests:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._loaded: dict[str, SupplyRequest] = {}

    def open(self, request: SupplyRequest) -> None:
        self._session.buffer.insert(
            OPENED, (request.id, request.order_id, request.ingredient, request.amount, request.deadline)
        )

    async def get(self, request_id: str) -> SupplyRequest | None:
        row = await self._session.fetchrow(
            "SELECT id::text AS id, order_id, ingredient, amount, deadline, status, reason FROM supply_requests "
            "WHERE id = $1::uuid FOR UPDATE",
            request_id,
        )
        if row is None:
            return None
        req = SupplyRequest(
            row["id"],
            row["order_id"],
            row["ingredient"],
            row["amount"],
            row["deadline"],
            RequestStatus(row["status"]),
            row["reason"],
        )
        self._loaded[req.id] = req
        return req

    def persist(self) -> list[Event]:
        """Buffer the settlements; the events the requests recorded."""
        events: list[Event] = []
        for req in self._loaded.values():
            if req.events:
                self._session.buffer.update(SETTLED, (req.id, req.status.value, req.reason))
                events += req.events
                req.events = []
        self._loaded.clear()
        return events
