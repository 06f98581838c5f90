"""The operator's commands: `python -m brigade_auth keys rotate|list`, `python -m brigade_auth admin EMAIL`.

keys rotate   add a signing key: new tokens use it at once; the older keys stay published (JWKS)
              until every token they signed has expired, then they are deleted. No restart: the
              services' verifiers fetch the keys again when a token names a kid they lack.
keys list     every key kept: kid, created, superseded, published until
admin EMAIL   make an existing user an admin (and staff): the first admin comes from here or
              from AUTH_FIRST_ADMIN_EMAIL, never from a request
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from brigade_auth.config import DemoUser
from brigade_auth.domain.errors import AuthError
from brigade_auth.service.auth import Auth
from brigade_auth.service.commands import GrantAdmin, ProvideUser, RotateKeys
from brigade_common.messaging import MessageContext

COMMANDS = ("keys", "admin")
CLI = MessageContext("auth-cli")
OpenAuth = Callable[[], AbstractAsyncContextManager[Auth]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m brigade_auth", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    keys = sub.add_parser("keys", help="the signing keys").add_subparsers(dest="action", required=True)
    keys.add_parser("rotate", help="add a signing key; older ones stay published until their tokens expire")
    keys.add_parser("list", help="every key kept")
    admin = sub.add_parser("admin", help="make an existing user an admin (and staff)")
    admin.add_argument("email")
    return parser


async def _rotate(auth: Auth) -> None:
    key = await auth.handle(RotateKeys(), context=CLI)
    print(f"new signing key {key.kid}; published: {', '.join(j['kid'] for j in await auth.jwks())}")


async def _list(auth: Auth) -> None:
    policy = auth.deps.keys
    now = auth.deps.clock()
    for key in await auth.views.keys():
        if key.superseded_at is None:
            state = "signing" if key is policy.signing(await auth.views.keys()) else "published"
        else:
            until = key.superseded_at + timedelta(seconds=policy.token_ttl_s + policy.grace_s)
            state = f"published until {until:%Y-%m-%d %H:%M:%S}" if policy.publishes(key, now) else "retired"
        print(f"{key.kid}  created {key.created_at:%Y-%m-%d %H:%M:%S}  {state}")


async def _admin(auth: Auth, email: str) -> None:
    user = await auth.handle(GrantAdmin(email, by="cli"), context=CLI)
    print(f"{user.email} ({user.id}) now has the roles {', '.join(user.roles)}")


async def provide_demo_users(auth: Auth, users: Sequence[DemoUser]) -> None:
    """`seed`: each demo user exists, with its password and roles (idempotent)."""
    for user in users:
        cmd = ProvideUser(user.email, user.password.get_secret_value(), user.display_name, user.roles, by="seed")
        await auth.handle(cmd, context=MessageContext("auth-seed"))


def main(argv: Sequence[str], open_auth: OpenAuth) -> int:
    args = _parser().parse_args(argv)

    async def run() -> None:
        async with open_auth() as auth:
            if args.command == "admin":
                await _admin(auth, args.email)
            elif args.action == "rotate":
                await _rotate(auth)
            else:
                await _list(auth)

    try:
        asyncio.run(run())
    except AuthError as exc:
        print(f"brigade_auth: {exc}", file=sys.stderr)
        return 1
    return 0
