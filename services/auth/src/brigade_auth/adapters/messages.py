"""The auth service's events as the messages other services read: the wire contracts, mapped here only."""

from __future__ import annotations

from brigade_auth.domain.events import Event, RolesChanged, UserRegistered
from brigade_common.messaging import Outgoing
from brigade_contracts import auth as a


def outgoing(event: Event) -> Outgoing:
    """The message `event` becomes (validated: a sign-up is rare, and its contract is strict)."""
    match event:
        case UserRegistered():
            payload = a.UserRegistered(
                user_id=event.user_id, email=event.email, display_name=event.display_name, roles=list(event.roles)
            )
            return Outgoing(a.USER_REGISTERED, payload)
        case RolesChanged():
            changed = a.UserRoleChanged(
                user_id=event.user_id,
                roles=list(event.roles),
                previous_roles=list(event.previous_roles),
                changed_by=event.changed_by,
            )
            return Outgoing(a.USER_ROLE_CHANGED, changed)
    raise TypeError(f"no message for {type(event).__name__}")
