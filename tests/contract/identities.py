"""Who the contract tests are: a signing key the stack trusts, and the tokens schemathesis sends.

The key exists before any server does because the per-operation schemas (and their auth providers)
are built at collection time; the stack fixture hands the same key to the services. Tokens are
minted when schemathesis asks for one, so a long session never sends an expired one.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import schemathesis

from brigade_common.auth.keys import generate_key, jwks
from brigade_common.auth.tokens import mint_token

KID = "contract-key"
CUSTOMER = "customer-contract"
STAFF = "staff-contract"
ADMIN = "admin-contract"
OPERATOR = "operator-contract"
# Two customers who must not see each other's orders.
PEERS = ("alice", "bob")


@functools.cache
def signing_key() -> tuple[str, str]:
    """The private key (PEM) the tokens are signed with, and the JWKS document that verifies them."""
    private_pem, public = generate_key(KID)
    return private_pem, jwks([public])


def token(sub: str, roles: tuple[str, ...]) -> str:
    return mint_token(signing_key()[0], KID, sub=sub, roles=list(roles))


class Bearer:
    """A schemathesis auth provider: a fresh token of `sub` with `roles` for each request."""

    sub: str
    roles: tuple[str, ...]

    def get(self, case: schemathesis.Case[Any], ctx: schemathesis.AuthContext) -> str:
        return token(self.sub, self.roles)

    def set(self, case: schemathesis.Case[Any], data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


class CustomerToken(Bearer):
    """A customer; for an operation declared for some roles (`x-roles`), someone holding the first of
    them, so that the staff's operations are run past their 403 too (the security matrix,
    tests/contract/test_security_matrix.py, proves the customer's 403 on each)."""

    sub, roles = CUSTOMER, ("customer",)

    def get(self, case: schemathesis.Case[Any], ctx: schemathesis.AuthContext) -> str:
        wanted = case.operation.definition.raw.get("x-roles")
        if wanted:
            return token(f"{wanted[0]}-contract", (wanted[0],))
        return token(self.sub, self.roles)


class StaffToken(Bearer):
    sub, roles = STAFF, ("staff",)


class AdminToken(Bearer):
    sub, roles = ADMIN, ("staff", "admin")


class EveryRoleToken(Bearer):
    """For tests of input validation: every route lets it past its role check to the inputs."""

    sub, roles = OPERATOR, ("customer", "staff", "admin")


def write_peers(path: Path) -> Path:
    """A Web Fuzzing Commons auth document for the `PEERS`, with tokens valid for the next hour."""
    users = [
        {"name": sub, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token(sub, ('customer',))}"}]}
        for sub in PEERS
    ]
    path.write_text(json.dumps({"auth": users}), encoding="utf-8")
    return path
