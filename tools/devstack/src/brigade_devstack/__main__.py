"""`python -m brigade_devstack up|reset|token|catalog|reconcile|mail`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from brigade_devstack import mailbox, reconcile
from brigade_devstack.errors import DevstackError
from brigade_devstack.layout import Layout
from brigade_devstack.reset import reset
from brigade_devstack.tokens import local_auth_url, sign_in_token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m brigade_devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run PostgreSQL, NATS and every service until Ctrl-C")
    commands.add_parser("reset", help="delete all local data (.brigade/ or $BRIGADE_HOME)")
    token = commands.add_parser("token", help="sign in through the stack's auth service and print the access token")
    token.add_argument("--as", dest="who", default=None, help="a user (alice, or an address): signed up on first use")
    token.add_argument("--role", default=None, help="customer (default), staff or admin")
    catalog = commands.add_parser("catalog", help="write the files derived from the service catalog")
    catalog.add_argument("--check", action="store_true", help="only report the files that are out of date")
    reconcile.add_command(commands)
    mailbox.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "up":
            from brigade_devstack.up import up

            return up()
        if args.command == "reconcile":
            return reconcile.run(args)
        if args.command == "mail":
            return mailbox.run(args)
        layout = Layout.discover()
        if args.command == "catalog":
            from brigade_devstack.derived.command import catalog

            return catalog(layout.root, check=args.check)
        if args.command == "reset":
            print(reset(layout))
            return 0
        token, user = sign_in_token(
            layout, local_auth_url(layout, os.environ), role=args.role or None, who=args.who or None
        )
        print(token)
        print(
            f"# {user.email} ({', '.join(user.roles)}), valid 15 minutes. Use it like this:\n"
            '#   TOKEN=$(make -s token) && curl -H "Authorization: Bearer $TOKEN" '
            "http://localhost:8080/api/kitchen/orders",
            file=sys.stderr,
        )
        return 0
    except DevstackError as exc:
        print(f"brigade: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
