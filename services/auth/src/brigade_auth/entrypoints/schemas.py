"""The auth service's HTTP models: what its API reads and answers (mapped from the model here only).

Every text field declares exactly what is accepted (patterns and lengths), so a request the
document calls valid is never refused by a rule the document does not state.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from brigade_auth.domain.model import DISPLAY_NAME_MAX_LENGTH, EMAIL_MAX_LENGTH, EMAIL_PATTERN
from brigade_auth.domain.passwords import MAX_LENGTH, MIN_LENGTH
from brigade_auth.service.handlers import SignedIn
from brigade_auth.service.ports import UserView
from brigade_common.pagination import TimePageQuery
from brigade_contracts.auth import Role

Email = Annotated[
    str,
    Field(
        pattern=EMAIL_PATTERN,
        max_length=EMAIL_MAX_LENGTH,
        description="An e-mail address; compared in lower case",
        examples=["ana@example.com"],
    ),
]
Password = Annotated[
    str,
    Field(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        pattern=r"^[^\x00]*$",
        description=f"At least {MIN_LENGTH} characters, and not the e-mail address",
        examples=["correct horse battery staple"],
    ),
]
# At least one character that is not a blank or a control character.
DisplayName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=DISPLAY_NAME_MAX_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$",
        examples=["Ana"],
    ),
]


class SignUpBody(BaseModel):
    """No roles here: every new user is a customer (roles are an admin's to give)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    email: Email
    password: Password
    display_name: DisplayName


class SignInBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: Email
    password: Annotated[str, Field(min_length=1, max_length=MAX_LENGTH, pattern=r"^[^\x00]*$")]


class RolesBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    roles: Annotated[
        list[Role],
        Field(
            min_length=1,
            max_length=len(Role),
            description="The user's roles from now on (a role listed twice counts once)",
        ),
    ]


class UserPath(BaseModel):
    user_id: uuid.UUID


class UsersQuery(TimePageQuery):
    role: Role = Field(default=Role.CUSTOMER, description="Only users holding this role")


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str
    roles: list[Role]
    created_at: datetime

    @classmethod
    def of(cls, user: UserView) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            roles=list(user.roles),
            created_at=user.created_at,
        )


class SessionOut(BaseModel):
    """A signed-in session. The refresh token is never in the body: only in its httpOnly cookie."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme, not a secret
    expires_in: int = Field(description="Seconds the access token is valid for")
    user: UserOut

    @classmethod
    def of(cls, signed: SignedIn) -> SessionOut:
        return cls(access_token=signed.access.token, expires_in=signed.access.expires_in, user=UserOut.of(signed.user))


class Jwk(BaseModel):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["EdDSA"]
    use: Literal["sig"]


class JwksOut(BaseModel):
    keys: list[Jwk]
