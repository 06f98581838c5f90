"""Twenty payments for one order at the same moment, on real PostgreSQL: exactly one charge, with
or without the same Idempotency-Key (seed 001 charged twice on a double submit)."""

from __future__ import annotations

import asyncio

import pytest

from brigade_contracts.payments import PAYMENT_SUCCEEDED
from services.payments.tests.integration.harness import PaymentsClient, new_order_id, snapshot


@pytest.mark.parametrize("same_key", [False, True], ids=["own-keys", "same-key"])
async def test_twenty_simultaneous_payments_for_one_order_make_one_charge(
    payments: PaymentsClient, same_key: bool
) -> None:
    order_id = new_order_id()
    await payments.known(snapshot(order_id))
    keys = ["double-submit"] * 20 if same_key else [f"k-{i}" for i in range(20)]
    answers = await asyncio.gather(*(payments.pay(order_id, key=k) for k in keys))
    statuses = sorted(r.status_code for r in answers)
    charged = [r.json() for r in answers if r.status_code == 201]
    assert set(statuses) <= {201, 409} and charged, statuses
    # Every 201 is the same payment: the one charge (replayed to the requests that shared its key).
    assert len({p["payment_id"] for p in charged}) == 1
    if not same_key:
        assert statuses.count(201) == 1
    rows = await payments.db.fetch("SELECT status FROM payments")
    assert [r["status"] for r in rows] == ["succeeded"]
    [succeeded] = await payments.events(PAYMENT_SUCCEEDED, 1)
    assert succeeded.data["payment_id"] == charged[0]["payment_id"]
