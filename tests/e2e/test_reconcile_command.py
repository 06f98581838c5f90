"""`python -m brigade_devstack reconcile` against real processes behind the gateway: it passes after
orders went through the saga, names exactly the invariant broken on purpose in the database, and
says why when it cannot read."""

from __future__ import annotations

import asyncio
import io
import sys
from datetime import timedelta

import asyncpg
import httpx
import pytest

from brigade_common.auth.keys import generate_key
from brigade_common.auth.tokens import mint_token
from brigade_common.devservers import free_port
from brigade_devstack.reconcile import reconcile
from tests.e2e.client import order, pay, purchases, settled, wait_status
from tests.e2e.harness import ROOT, Stack
from tests.load.stack import start_with_gateway

GRACE = timedelta(seconds=30)
PANTRY_LEDGER = "every pantry balance equals the sum of its ledger"
RESERVED_DEADLINE = "no reserved order past its expires_at"
HOLDS = "pantry reserved equals the holds of the pending and reserved orders"


async def run(url: str, token: str) -> tuple[int, str, str]:
    """The command in this process (a thread: it reads synchronously): exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(reconcile, url, token, grace=GRACE, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def verdict_lines(output: str) -> dict[str, str]:
    """Each invariant's mark, by the invariant's words."""
    lines = [line for line in output.splitlines() if line[:2] in ("✓ ", "✗ ", "? ", "– ")]
    return {line[2:].split(":")[0]: line[0] for line in lines}


async def saga(http: httpx.AsyncClient, stack: Stack) -> dict[str, str]:
    """Orders through every branch the ledgers record; their ids by what became of them."""
    # The pantry lacks one lechuga (the warehouse has it), then lechuga and pollo (the market sells them).
    first = (await order(http, stack, "ensalada-cesar")).json()
    second = await order(http, stack, "ensalada-cesar")
    assert second.status_code in (201, 202), second.text
    assert (await settled(http, stack, second.json()["order_id"]))["status"] == "reserved"
    bought = await purchases(http, stack)
    assert bought, "the second salad should have been bought from the market"
    # Covered by the pantry: one is paid (consumed), one cancelled (released).
    paid = (await order(http, stack, "pan-simple")).json()
    assert (await pay(http, stack, paid)).status_code == 201
    await wait_status(http, stack, paid["order_id"], {"served"})
    cancelled = (await order(http, stack, "pasta-carne-molida")).json()
    r = await http.post(
        f"{stack.url('kitchen')}/api/kitchen/orders/{cancelled['order_id']}/cancel", headers=stack.auth()
    )
    assert r.json()["status"] == "cancelled", r.text
    return {"reserved": first["order_id"], "served": paid["order_id"]}


# The sweep would settle the order made overdue on purpose before the command sees it.
@pytest.mark.stack_env(KITCHEN_SWEEP_S="3600")
async def test_reconcile_passes_after_the_saga_and_names_each_invariant_broken_on_purpose(
    stack: Stack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    url = await start_with_gateway(stack)
    orders = await saga(http, stack)
    staff = stack.token("reconcile", ("staff",))

    # As an operator runs it: a process of its own, every line ✓ but the one HTTP cannot show.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "brigade_devstack", "reconcile", "--url", url, "--token", staff,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    output = stdout.decode()
    assert proc.returncode == 0, output + stderr.decode()
    marks = verdict_lines(output)
    assert len(marks) == 9, output
    assert {m for check, m in marks.items() if check != HOLDS} == {"✓"}, output
    assert marks[HOLDS] == "–" and "not checked over HTTP" in output, output
    assert "units left the warehouse" in output and "every invariant checked holds" in output, output

    # A balance changed without its ledger row: that ingredient, that invariant, nothing else.
    await db.execute("UPDATE kitchen.pantry SET on_hand = on_hand + 1 WHERE ingredient = 'carne_molida'")
    code, output, _ = await run(url, staff)
    assert code == 1, output
    assert verdict_lines(output)[PANTRY_LEDGER] == "✗", output
    assert [check for check, mark in verdict_lines(output).items() if mark == "✗"] == [PANTRY_LEDGER], output
    assert "carne_molida: on_hand 26, but its ledger (1 movement) sums to 25 (off by +1)" in output, output
    await db.execute("UPDATE kitchen.pantry SET on_hand = on_hand - 1 WHERE ingredient = 'carne_molida'")

    # A reserved order an hour past its expiry: named, with how late it is.
    await db.execute(
        "UPDATE kitchen.orders SET expires_at = now() - interval '1 hour' WHERE id = $1::uuid", orders["reserved"]
    )
    code, output, _ = await run(url, staff)
    assert code == 1, output
    broken = [check for check, mark in verdict_lines(output).items() if mark == "✗"]
    assert len(broken) == 1 and broken[0].startswith(RESERVED_DEADLINE), output
    assert f"order {orders['reserved']}: still reserved" in output and "passed 36" in output, output

    # A customer's token would list only their own orders: refused before reading, with the reason.
    code, output, errors = await run(url, stack.token())
    assert code == 2 and not output, output
    assert "needs staff" in errors and "customer-demo" in errors, errors
    # A staff token the stack did not sign: the server's refusal, said as such.
    private_pem, _ = generate_key("other-key")
    forged = mint_token(private_pem, "other-key", sub="reconcile", roles=["staff"])
    code, output, errors = await run(url, forged)
    assert code == 2 and "401" in errors and "--token" in errors, errors


async def test_reconcile_says_it_cannot_reach_an_address_where_nothing_listens() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, output, errors = await run(url, "not-a-jwt")
    assert code == 2 and not output
    assert f"cannot read {url}: cannot reach {url}" in errors, errors
