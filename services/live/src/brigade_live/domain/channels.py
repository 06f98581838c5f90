"""The channels a socket may subscribe to: which events each carries, and who may see them.

A channel reads one JetStream stream, so its `seq` is that stream's sequence: a client that has
applied up to `seq` resumes with `after: seq` and misses nothing. A channel is for some roles (a
customer may not watch the pantry), and a channel of per-user events (orders, notifications) shows
each user only their own, except to the roles that see everything: staff for orders, nobody for
notifications (`sees_all=NOBODY`: a staff member's bell is their own too).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from brigade_contracts.auth import Role

STAFF = frozenset({Role.STAFF.value})
# For a per-user channel whose events are private to their user, whatever the viewer's roles.
NOBODY: frozenset[str] = frozenset()


class Viewer(Protocol):
    """Who is watching (a verified principal)."""

    @property
    def sub(self) -> str: ...

    def has_any_role(self, roles: Iterable[str]) -> bool: ...


@dataclass(frozen=True)
class Event:
    """One event of a channel: its stream sequence, its envelope as stored (JSON), whose it is."""

    seq: int
    type: str
    envelope: str
    owner: str | None = None


@dataclass(frozen=True)
class Channel:
    name: str
    stream: str
    # What the stream consumer asks for (several subjects: one consumer with `filter_subjects`,
    # nats-server 2.10+); `types` then keeps only the channel's events.
    subjects: tuple[str, ...]
    types: frozenset[str]
    # Who may subscribe (empty: anyone signed in).
    roles: frozenset[str] = frozenset()
    # For per-user events: the field of the event's data naming its user. Roles in `sees_all` get
    # every event; anyone else only their own (NOBODY: everyone only their own).
    owner_field: str | None = None
    sees_all: frozenset[str] = field(default=STAFF)

    def may_subscribe(self, principal: Viewer) -> bool:
        return not self.roles or principal.has_any_role(self.roles)

    def sees_every_event(self, principal: Viewer) -> bool:
        # An empty `sees_all` is nobody, whatever a viewer's `has_any_role` makes of no roles.
        return self.owner_field is None or (bool(self.sees_all) and principal.has_any_role(self.sees_all))

    def visible(self, event: Event, principal: Viewer) -> bool:
        """Whether `principal` may receive `event` (who subscribed was checked by `may_subscribe`)."""
        return self.sees_every_event(principal) or (event.owner is not None and event.owner == principal.sub)

    def decode(self, seq: int, subject: str, raw: bytes) -> Event | None:
        """The event a stored message is, or None when it is not one of this channel's (another type,
        or not an envelope: nothing that is not JSON ever goes out to a browser)."""
        if subject not in self.types:
            return None
        try:
            text = raw.decode()
            envelope = json.loads(text)
            data = envelope["data"]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(data, dict):
            return None
        owner = data.get(self.owner_field) if self.owner_field else None
        return Event(seq, subject, text, owner if isinstance(owner, str) else None)
