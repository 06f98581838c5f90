"""The JetStream streams: one per bounded context, plus the dead-letter stream."""

from __future__ import annotations

from dataclasses import dataclass

MAX_DELIVERIES_ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>"


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    allow_msg_schedules: bool = False
    max_age_s: float = 7 * 24 * 3600
    duplicate_window_s: float = 120.0


AUTH = StreamSpec("AUTH", ("auth.>",))
# Kitchen schedules its own order-expiry checks as JetStream scheduled messages.
KITCHEN = StreamSpec("KITCHEN", ("kitchen.>",), allow_msg_schedules=True)
WAREHOUSE = StreamSpec("WAREHOUSE", ("warehouse.>",))
PAYMENTS = StreamSpec("PAYMENTS", ("payments.>",))
NOTIFICATIONS = StreamSpec("NOTIFICATIONS", ("notifications.>",))
# Dead letters, and the server's max-deliveries advisories as a safety net for consumers that died
# before they could dead-letter a message themselves.
DLQ = StreamSpec("DLQ", ("dlq.>", MAX_DELIVERIES_ADVISORY), max_age_s=30 * 24 * 3600)

STREAMS: dict[str, StreamSpec] = {s.name: s for s in (AUTH, KITCHEN, WAREHOUSE, PAYMENTS, NOTIFICATIONS, DLQ)}
