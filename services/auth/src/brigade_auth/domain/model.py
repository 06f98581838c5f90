"""Users: who they are (an e-mail address, unique once normalised), what they may do (roles), and
the password hash that proves it. A user records the events its changes cause."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from brigade_auth.domain.errors import InvalidEmail, LastAdmin
from brigade_auth.domain.events import Event, RolesChanged, UserRegistered
from brigade_contracts.auth import Role

# ASCII addresses of the common shape (no quoted local parts; an internationalised domain in its
# punycode form). The HTTP schema declares this same pattern, so what it allows is what is accepted.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){1,8}$"
EMAIL_MAX_LENGTH = 254
DISPLAY_NAME_MAX_LENGTH = 100
_EMAIL = re.compile(EMAIL_PATTERN)
NEW_USER_ROLES = (Role.CUSTOMER,)
# Roles in a fixed order wherever they are listed (tokens, events, answers).
ROLE_ORDER = {role: i for i, role in enumerate(Role)}


def normalise_email(text: str) -> str:
    """The form two spellings of one address share: surrounding blanks dropped, lower case.

    Lower-casing the local part is what every large mail provider does in practice; treating
    `Ana@x` and `ana@x` as two accounts would let one person register twice and confuse sign-in.
    """
    email = text.strip().lower()
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.fullmatch(email):
        raise InvalidEmail
    return email


def ordered(roles: Iterable[Role]) -> tuple[Role, ...]:
    return tuple(sorted(set(roles), key=ROLE_ORDER.__getitem__))


@dataclass
class User:
    id: str
    email: str
    display_name: str
    roles: tuple[Role, ...]
    password_hash: str
    created_at: datetime
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(cls, user_id: str, email: str, display_name: str, password_hash: str, now: datetime) -> User:
        """A new user: always a customer, whatever the request said (roles are never client-settable)."""
        user = cls(user_id, normalise_email(email), display_name, NEW_USER_ROLES, password_hash, now)
        user.events.append(UserRegistered(user.id, user.email, user.display_name, user.roles))
        return user

    def change_roles(self, roles: Iterable[Role], *, by: str, admins_left: int) -> bool:
        """Give the user exactly `roles`; `admins_left` is how many admins there are besides this
        user. False when nothing changed (no event then)."""
        wanted = ordered(roles)
        if wanted == self.roles:
            return False
        if Role.ADMIN in self.roles and Role.ADMIN not in wanted and admins_left == 0:
            raise LastAdmin
        previous, self.roles = self.roles, wanted
        self.events.append(RolesChanged(self.id, wanted, previous, by))
        return True

    def rehash(self, password_hash: str) -> None:
        """The same password under new hashing parameters (no event: nothing anyone else sees changed)."""
        self.password_hash = password_hash
