"""`python -m brigade_common.auth keygen|token`: the development key pair and tokens signed with it.

python -m brigade_common.auth keygen --dir .local/jwt
python -m brigade_common.auth token --key-dir .local/jwt --sub alice --role customer
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from brigade_common.auth.keys import keygen, public_jwk
from brigade_common.auth.tokens import mint_token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m brigade_common.auth", description="Brigade JWT tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("keygen", help="create an Ed25519 key pair (keeps an existing one)")
    gen.add_argument("--dir", required=True, type=Path, help="writes DIR/private.pem and DIR/jwks.json")
    tok = sub.add_parser("token", help="print a signed token")
    tok.add_argument("--key-dir", required=True, type=Path, help="directory holding private.pem")
    tok.add_argument("--sub", required=True, help="subject (user id)")
    tok.add_argument("--role", action="append", default=[], help="a role; repeat for several")
    tok.add_argument("--name", default=None, help="display name")
    tok.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    tok.add_argument("--issuer", default="brigade")
    tok.add_argument("--audience", default="brigade")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m brigade_common.auth`."""
    args = _parser().parse_args(argv)
    if args.command == "keygen":
        kid, created = keygen(args.dir)
        print(f"{'created' if created else 'kept'} key {kid} in {args.dir}", file=sys.stderr)
        return 0
    private_path = args.key_dir / "private.pem"
    if not private_path.exists():
        print(f"no key at {private_path}: run `keygen --dir {args.key_dir}` first", file=sys.stderr)
        return 1
    pem = private_path.read_text()
    print(
        mint_token(
            pem,
            public_jwk(pem)["kid"],
            sub=args.sub,
            roles=args.role,
            name=args.name,
            ttl_s=args.ttl,
            issuer=args.issuer,
            audience=args.audience,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
