"""Messages owned by the auth context: users, their roles, and the keys tokens are signed with."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from brigade_contracts._base import Message

USER_REGISTERED = "auth.user.registered.v1"
USER_ROLE_CHANGED = "auth.user.role_changed.v1"
# Request-reply (NATS service `auth`): the public keys every service verifies access tokens with.
# Outside `auth.>`, which the AUTH stream captures: a request stored by a stream is answered by the
# stream's own acknowledgement, before the service can answer.
JWKS = "rpc.auth.jwks"


class Role(StrEnum):
    """What a user may do: a customer their own orders, staff the kitchen and the warehouse, an
    admin the roles too. A role includes nothing of another: an admin is given staff separately."""

    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


class UserRegistered(Message):
    """A new user signed up (never a password or its hash: other services need none of it)."""

    user_id: str
    email: str = Field(max_length=254)
    display_name: str = Field(max_length=100)
    roles: list[Role]


class UserRoleChanged(Message):
    """An admin changed a user's roles."""

    user_id: str
    roles: list[Role]
    previous_roles: list[Role]
    changed_by: str


class JwksRequest(Message):
    """Ask for the current keys (no fields: every caller gets the same document)."""


class JwksReply(Message):
    """A JWKS document: the Ed25519 public keys whose `kid` an access token may name."""

    keys: list[dict[str, str]]
