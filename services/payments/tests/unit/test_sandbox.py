"""The sandbox provider behaves like the test mode of a real one: the same attempt answers the same,
a processing error is transient, a refund of one charge happens once."""

from __future__ import annotations

import pytest

from brigade_payments.adapters.sandbox import SandboxProvider
from brigade_payments.domain.errors import ProviderUnavailable
from brigade_payments.service.ports import Approved, Declined


async def test_the_same_attempt_answers_what_it_answered_and_a_processing_error_passes() -> None:
    sandbox = SandboxProvider()
    first = await sandbox.charge("a-1", 900, "tok_visa", "order-1")
    assert isinstance(first, Approved) and await sandbox.charge("a-1", 900, "tok_visa", "order-1") == first
    assert await sandbox.charge("a-2", 900, "tok_chargeDeclinedExpiredCard", "order-1") == Declined(
        "expired_card", "Your card has expired."
    )
    with pytest.raises(ProviderUnavailable):
        await sandbox.charge("a-3", 900, "tok_processingError", "order-2")
    with pytest.raises(ProviderUnavailable):  # that attempt stays failed …
        await sandbox.charge("a-3", 900, "tok_processingError", "order-2")
    assert isinstance(await sandbox.charge("a-4", 900, "tok_processingError", "order-2"), Approved)  # … a new one works
    assert await sandbox.refund(first.charge_id, 900) == await sandbox.refund(first.charge_id, 900)
