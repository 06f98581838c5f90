"""What happens to users, as the model records it; mapped to the wire at the edge (adapters/messages.py).

No event carries a password, its hash or a token: the other services need none of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from brigade_contracts.auth import Role


class Event:
    """Base of the auth service's events."""


@dataclass(frozen=True)
class UserRegistered(Event):
    user_id: str
    email: str
    display_name: str
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class RolesChanged(Event):
    user_id: str
    roles: tuple[Role, ...]
    previous_roles: tuple[Role, ...]
    changed_by: str
