"""`python -m brigade_devstack reconcile`: the invariants of DESIGN §3, checked over the public HTTP APIs.

It reads what any operator can read (the kitchen's pantry, its ledger and its orders; the
warehouse's stock, its ledger and its purchases), following every `next_cursor`, and prints each
invariant with ✓ or ✗ and, for a ✗, the ingredient, order or request and the numbers. Exit 0 when
all hold, 1 when one does not, 2 when it cannot read (unreachable, a refused or non-staff token) or
cannot read a settled view of some invariant (`?`).

Reads that are not atomic
-------------------------
The services keep working while it reads, and every request sees a different moment, so a naive
comparison would report races as breaks. Three things keep it honest:

1. Fences. Each comparison is made between reads ordered so that, in a healthy system, the race can
   only go one known way (`reconcile_reads` has the order):
   - a balance is read before and after the newest pages of its ledger (the whole ledger was read
     just before): it counts only when both reads agree, and a balance that moves in every pass
     is reported as `?`, not as a break;
   - pantry deliveries are read before the warehouse's ledger and again after it: a delivery is
     caused by its supply, so the first read can never hold more than left the warehouse (more is a
     double delivery, for certain), and whatever had left must be in the second read, or it is
     still in flight. In flight is allowed while the newest supplies that could explain the gap
     left less than `--grace-s` ago (reported as such); older than that, the units are lost;
   - purchases are read before and after the stock ledger: both only grow and commit together,
     so the ledger's purchase movements must lie between the two reads;
   - orders are read last, and their deadlines compared with the server's clock (its `Date`), the
     clock that wrote them, with `--grace-s` for the kitchen's sweep (every 10 s).
2. Re-reads. A cursor page can still miss a row that committed late with a lower id, or catch two
   movements that cancel out between the balance reads. Such a race does not repeat the same way,
   a real break does: when a pass finds anything off, the whole pass is read again (`--passes`,
   one second apart), and only what was off in every pass is reported (`reconcile_verdict`).
3. Honesty about the rest. The pantry's `reserved` should equal the holds of the pending and
   reserved orders; the APIs do not show per-order holds, so that is printed as "not checked over
   HTTP", except its one visible case: with no order waiting, nothing may be reserved.

Exactly-once delivery is checked per ingredient and in total: the pantry's ledger names the
order of a delivery, the warehouse's the supply request, and no public API links the two.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from datetime import timedelta
from typing import TextIO

from brigade_devstack.demo_users import users_file
from brigade_devstack.errors import DevstackError
from brigade_devstack.layout import Layout
from brigade_devstack.reconcile_checks import check_all
from brigade_devstack.reconcile_http import ApiReader, Unreadable
from brigade_devstack.reconcile_reads import KITCHEN, read_snapshot
from brigade_devstack.reconcile_verdict import Passes, exit_code, render
from brigade_devstack.tokens import local_auth_url, sign_in_token

TOKEN_ENV = "BRIGADE_TOKEN"  # noqa: S105 - the variable that holds one, not a token
CANNOT_READ = 2
# Long enough for a delivery or a sweep caught mid-way to land, short enough to wait for by hand.
REREAD_PAUSE_S = 1.0


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `reconcile` sub-command and its options."""
    command = commands.add_parser(
        "reconcile", help="check the saga's invariants (DESIGN §3) over the HTTP APIs", description=__doc__
    )
    command.formatter_class = argparse.RawDescriptionHelpFormatter
    command.add_argument("--url", help="the gateway (default http://localhost:$WEB_HTTP_PORT, the `make up` one)")
    command.add_argument(
        "--token", help=f"a staff bearer token (default ${TOKEN_ENV}, else the demo staff user of `make up` signs in)"
    )
    command.add_argument(
        "--grace-s", type=float, default=30.0, help="how late a deadline or a delivery may be (default 30)"
    )
    command.add_argument(
        "--passes", type=int, default=3, help="reads of everything at most, when one finds something off (default 3)"
    )


def run(args: argparse.Namespace) -> int:
    """`reconcile` with the options of `add_command`, defaults filled in."""
    url = args.url or f"http://localhost:{os.environ.get('WEB_HTTP_PORT') or 8080}"
    token = args.token or os.environ.get(TOKEN_ENV)
    hint = ""
    if not token:
        layout = Layout.discover()
        if not users_file(layout).exists():
            print(
                f"reconcile: no demo users in {layout.home} (make up never ran here): pass --token or {TOKEN_ENV}",
                file=sys.stderr,
            )
            return CANNOT_READ
        try:  # a read-only command: it signs in as the demo staff user, it signs nobody up
            token, user = sign_in_token(layout, local_auth_url(layout, os.environ), role="staff")
        except DevstackError as exc:
            print(f"reconcile: no staff token ({exc}): pass --token or {TOKEN_ENV}", file=sys.stderr)
            return CANNOT_READ
        hint = f" (signed in as {user.email}: for another deployment pass --url and --token)"
    return reconcile(url, token, grace=timedelta(seconds=args.grace_s), passes=max(args.passes, 1), hint=hint)


def reconcile(
    url: str,
    token: str,
    *,
    grace: timedelta,
    passes: int = 3,
    out: TextIO | None = None,
    err: TextIO | None = None,
    hint: str = "",
) -> int:
    """Check every invariant against the gateway at `url`; print the verdicts; the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    problem = _not_staff(token)
    if problem:
        print(f"reconcile: cannot read {url}: {problem}", file=err)
        return CANNOT_READ
    api = ApiReader(url, token)
    seen = Passes()
    try:
        api.get(f"{KITCHEN}/orders", [("limit", "1")])  # reachable, and the token accepted, before reading all
        while True:
            seen.add(check_all(read_snapshot(api), grace))
            if seen.settled or seen.count >= passes:
                break
            time.sleep(REREAD_PAUSE_S)
    except Unreadable as exc:
        print(f"reconcile: cannot read {url}: {exc}{hint}", file=err)
        return CANNOT_READ
    finally:
        api.close()
    verdicts = seen.verdicts()
    passes_read = f"{seen.count} pass{'es' if seen.count > 1 else ''}"
    print(f"reconcile {url}: {passes_read}, server time {api.server_now:%Y-%m-%d %H:%M:%S} UTC", file=out)
    print(render(verdicts), file=out)
    return exit_code(verdicts)


def _not_staff(token: str) -> str | None:
    """Why the token cannot be used, when its claims say it is not staff's. The kitchen does not
    refuse a customer's listing of orders, it narrows it to their own: the order checks would pass
    on a partial list, so this is said before reading (the server still verifies the token)."""
    claims = _claims(token)
    roles = claims.get("roles") if claims else None
    if claims and isinstance(roles, list) and "staff" not in roles:
        return (
            f"the token is for {claims.get('sub')!r} with the roles {roles}, and reconcile needs staff: a "
            "customer's GET /api/kitchen/orders lists only their own orders. Pass a staff token "
            f"(--token or {TOKEN_ENV}; `make token ROLE=staff` for make up)"
        )
    return None


def _claims(token: str) -> dict[str, object] | None:
    """A JWT's payload, unverified (the server verifies it); None when the token is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:  # bad base64, bad UTF-8 or bad JSON: not a token this can read
        return None
    return payload if isinstance(payload, dict) else None
