"""Users as this service knows them (a replica of auth's), and the notifications it keeps for them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from brigade_contracts.auth import Role

Facts = Mapping[str, str | int | None]
_SPACE = re.compile(r"\s+")


class Kind(StrEnum):
    """What a notification is about; each kind has its texts and its e-mail templates."""

    WELCOME = "welcome"
    ORDER_PLACED = "order_placed"
    ORDER_RESERVED = "order_reserved"
    ORDER_SERVED = "order_served"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_EXPIRED = "order_expired"
    ORDER_FAILED = "order_failed"
    PAYMENT_RECEIPT = "payment_receipt"
    PAYMENT_DECLINED = "payment_declined"
    REFUND = "refund"
    DISH_ADDED = "dish_added"


# Kinds that are also e-mailed. The others are in-app only: the customer has just seen the order
# placed (the 201), and a served order's e-mail is its receipt; a declined card is answered there
# and then (402) and the order stays payable.
EMAILED: frozenset[Kind] = frozenset(
    {
        Kind.WELCOME,
        Kind.ORDER_RESERVED,
        Kind.ORDER_CANCELLED,
        Kind.ORDER_EXPIRED,
        Kind.ORDER_FAILED,
        Kind.PAYMENT_RECEIPT,
        Kind.REFUND,
        Kind.DISH_ADDED,
    }
)


def one_line(text: str, limit: int = 200) -> str:
    """`text` on one line (no CR/LF: a subject is a mail header), at most `limit` characters."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class User:
    """A user of the replica. `email` and `display_name` are None while only a role change has been
    heard of (events of one stream may be handled out of order)."""

    user_id: str
    email: str | None
    display_name: str | None
    roles: frozenset[Role] = frozenset()

    @property
    def is_staff(self) -> bool:
        return Role.STAFF in self.roles


@dataclass(frozen=True)
class Notice:
    """A notification to write for one user: `source` names what caused it (the same cause never
    makes a second one for that user), `facts` are what its texts and templates show."""

    user_id: str
    kind: Kind
    source: str
    title: str
    body: str
    occurred_at: datetime
    facts: Facts = field(default_factory=dict)

    @property
    def emailed(self) -> bool:
        return self.kind in EMAILED


@dataclass(frozen=True)
class Notification:
    """A stored notification, as its owner reads it."""

    id: str
    user_id: str
    kind: Kind
    title: str
    body: str
    facts: Facts
    created_at: datetime
    read_at: datetime | None = None
