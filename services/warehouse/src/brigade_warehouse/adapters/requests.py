"""Supply requests in PostgreSQL: registered once, read locked, their holds and settlements written at commit."""

from __future__ import annotations

from collections.abc import Sequence

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
    "supply_requests",
    ("id", "uuid"),
    ("status", "text"),
    ("reason", "text"),
    ("held", "bigint"),
    key="id",
    on_update="resolved_at = now()",
)
HELD = Table.of("supply_requests", ("id", "uuid"), ("held", "bigint"), key="id")  # open, holding more


# The requests `$1`, locked in one order (the order every lock of several takes).
_LOCK = (
    "SELECT id::text AS id, order_id, ingredient, amount, deadline, status, reason, held FROM supply_requests "
    "WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE"
)


class PostgresRequests:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._loaded: dict[str, tuple[SupplyRequest, int]] = {}  # each with what it held when read
        self.opened = 0  # requests registered (`open`: a repeat counts too)

    def open(self, request: SupplyRequest) -> None:
        self._session.buffer.insert(
            OPENED, (request.id, request.order_id, request.ingredient, request.amount, request.deadline)
        )
        self.opened += 1

    async def get_all(self, request_ids: Sequence[str]) -> dict[str, SupplyRequest]:
        rows = await self._session.fetch(_LOCK, list(request_ids))
        for row in rows:
            req = SupplyRequest(
                row["id"],
                row["order_id"],
                row["ingredient"],
                row["amount"],
                row["deadline"],
                RequestStatus(row["status"]),
                row["reason"],
                row["held"],
            )
            self._loaded[req.id] = (req, req.held)
        return {row["id"]: self._loaded[row["id"]][0] for row in rows}

    def persist(self) -> list[Event]:
        """Buffer the settlements and the holds; the events the requests recorded."""
        events: list[Event] = []
        for req, held in self._loaded.values():
            if req.events:
                self._session.buffer.update(SETTLED, (req.id, req.status.value, req.reason, req.held))
                events += req.events
                req.events = []
            elif req.held != held:
                self._session.buffer.update(HELD, (req.id, req.held))
        self._loaded.clear()
        return events
