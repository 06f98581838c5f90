"""Who is calling, as a verified token says: pure data, for use cases that need the caller."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, roles and display name."""

    sub: str
    roles: frozenset[str]
    name: str | None = None
    # When the token that says so expires (seconds since the epoch); a long-lived connection ends then.
    expires_at: float | None = None

    def has_any_role(self, roles: Iterable[str]) -> bool:
        """True when the principal holds at least one of `roles`."""
        return not self.roles.isdisjoint(roles)
