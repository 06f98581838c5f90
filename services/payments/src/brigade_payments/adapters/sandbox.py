"""The sandbox card provider: Stripe's test tokens, no network, no money.

| token                                   | outcome                                                       |
|-----------------------------------------|---------------------------------------------------------------|
| `tok_visa`                              | approved                                                      |
| `tok_chargeDeclined`                    | declined, `card_declined`                                     |
| `tok_chargeDeclinedInsufficientFunds`   | declined, `insufficient_funds`                                |
| `tok_chargeDeclinedExpiredCard`         | declined, `expired_card`                                      |
| `tok_processingError`                   | `processing_error` the first time for an order, then approved |

The processing error is transient, as a real one is: the provider fails the first charge it is
asked for an order and approves the next, so a retry works. Like Stripe, it is idempotent on the
attempt id: the same attempt asked again answers what it answered the first time (what lets a
payment whose request died be settled by asking again). It remembers in memory, per process: a
simulation, like the market's suppliers.
"""

from __future__ import annotations

import asyncio
import hashlib
from enum import StrEnum
from typing import TypeVar

from brigade_payments.domain.errors import ProviderUnavailable
from brigade_payments.service.ports import Approved, Declined

PROCESSING_ERROR = "processing_error"
MAX_REMEMBERED = 100_000
T = TypeVar("T")


class SandboxToken(StrEnum):
    """The test cards the sandbox knows (Stripe's names)."""

    VISA = "tok_visa"
    DECLINED = "tok_chargeDeclined"
    INSUFFICIENT_FUNDS = "tok_chargeDeclinedInsufficientFunds"
    EXPIRED_CARD = "tok_chargeDeclinedExpiredCard"
    PROCESSING_ERROR = "tok_processingError"


DECLINES: dict[str, Declined] = {
    SandboxToken.DECLINED: Declined("card_declined", "Your card was declined."),
    SandboxToken.INSUFFICIENT_FUNDS: Declined("insufficient_funds", "Your card has insufficient funds."),
    SandboxToken.EXPIRED_CARD: Declined("expired_card", "Your card has expired."),
}


def _id(prefix: str, *parts: str) -> str:
    return f"{prefix}_{hashlib.sha256(':'.join(parts).encode()).hexdigest()[:24]}"


class SandboxProvider:
    def __init__(self, latency_s: float = 0.0) -> None:
        self._latency_s = latency_s
        self._answers: dict[str, Approved | Declined | ProviderUnavailable] = {}
        self._failed_once: dict[str, None] = {}  # the orders whose first charge failed (insertion-ordered)

    async def charge(self, attempt_id: str, amount_cents: int, token: str, reference: str) -> Approved | Declined:
        if self._latency_s:
            await asyncio.sleep(self._latency_s)  # a provider's round trip, when rehearsing one
        answer = self._answers.get(attempt_id)
        if answer is None:
            answer = self._answer(attempt_id, token, reference)
            _bounded_put(self._answers, attempt_id, answer)
        if isinstance(answer, ProviderUnavailable):
            raise ProviderUnavailable(answer.code, answer.message)  # a fresh one: no traceback piles up
        return answer

    async def refund(self, charge_id: str, amount_cents: int) -> str:
        if self._latency_s:
            await asyncio.sleep(self._latency_s)
        return _id("re", charge_id)  # one refund per charge, however often it is asked for

    def _answer(self, attempt_id: str, token: str, reference: str) -> Approved | Declined | ProviderUnavailable:
        if token == SandboxToken.PROCESSING_ERROR and reference not in self._failed_once:
            _bounded_put(self._failed_once, reference, None)
            return ProviderUnavailable(PROCESSING_ERROR, "An error occurred while processing your card. Try again.")
        declined = DECLINES.get(token)
        if declined is not None:
            return declined
        if token not in set(SandboxToken):
            return Declined("invalid_token", f"No such token: {token!r}.")
        return Approved(_id("ch", attempt_id))


def _bounded_put(memory: dict[str, T], key: str, value: T) -> None:
    """A long-running sandbox forgets its oldest answers rather than growing without end."""
    if len(memory) >= MAX_REMEMBERED:
        memory.pop(next(iter(memory)))
    memory[key] = value
