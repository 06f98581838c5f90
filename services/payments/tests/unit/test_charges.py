"""Charging an order against fakes: one charge whatever the concurrency, the amount from the order,
declines and processing errors that take nothing, Idempotency-Key replays, the replica's fallback to
the kitchen, and the sweep that settles a charge whose request died. No servers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from brigade_common.idempotency import IdempotencyKey, IdempotencyKeyReused, RequestInProgress
from brigade_contracts.kitchen import OrderStatus
from brigade_payments.adapters.sandbox import SandboxProvider
from brigade_payments.domain.errors import (
    CardDeclined,
    KitchenUnavailable,
    OrderAlreadyCharged,
    OrderNotPayable,
    ProviderUnavailable,
    UnknownOrder,
)
from brigade_payments.domain.events import PaymentFailed, PaymentSucceeded
from brigade_payments.domain.model import OrderState, PaymentStatus
from brigade_payments.service import commands as c
from brigade_payments.service.charges import Charged, Deps, pay_order, settle_stuck_payment
from brigade_payments.service.ports import PaymentProvider
from services.payments.tests.unit.fakes import (
    ORDER,
    FakeClock,
    FakeKitchen,
    FakeViews,
    GatedProvider,
    PaymentsState,
    units,
)

N = 0


def deps(state: PaymentsState, provider: PaymentProvider | None = None, kitchen: FakeKitchen | None = None) -> Deps:
    return Deps(FakeClock(), provider or SandboxProvider(), kitchen or FakeKitchen(), FakeViews(state))


def key(name: str = "k-1", token: str = "tok_visa") -> IdempotencyKey:
    return IdempotencyKey("alice", name, "POST", "/api/payments", f"{ORDER.order_id}:{token}")


def pay(token: str = "tok_visa", *, idem: IdempotencyKey | None = None, payer: str = "alice") -> c.PayOrder:
    global N
    N += 1
    return c.PayOrder(f"00000000-0000-4000-8000-{N:012d}", ORDER.order_id, payer, token, idem)


async def test_a_valid_card_pays_the_orders_price_once_and_says_so() -> None:
    state = PaymentsState.with_order()
    charged = await pay_order(pay(), units(state), deps(state))
    assert charged.payment.status is PaymentStatus.SUCCEEDED and charged.payment.amount_cents == 900
    assert charged.replayed is False
    assert state.events() == [PaymentSucceeded(charged.payment.payment_id, ORDER.order_id, "alice", 900)]
    # Paid is paid: another payment for the order is refused, however it comes.
    with pytest.raises(OrderAlreadyCharged):
        await pay_order(pay(), units(state), deps(state))
    assert len(state.charges()) == 1


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("tok_chargeDeclinedExpiredCard", "expired_card"),
    ],
)
async def test_a_declined_card_takes_nothing_and_the_order_stays_payable(token: str, code: str) -> None:
    state = PaymentsState.with_order()
    with pytest.raises(CardDeclined) as declined:
        await pay_order(pay(token), units(state), deps(state))
    assert declined.value.payment.status is PaymentStatus.FAILED and declined.value.payment.failure_code == code
    [failed] = state.events(PaymentFailed)
    assert failed.code == code and state.charges() == []
    assert (await pay_order(pay(), units(state), deps(state))).payment.status is PaymentStatus.SUCCEEDED


async def test_a_processing_error_takes_nothing_frees_the_key_and_the_retry_with_it_works() -> None:
    state = PaymentsState.with_order()
    d = deps(state)
    with pytest.raises(ProviderUnavailable):
        await pay_order(pay("tok_processingError", idem=key()), units(state), d)
    assert state.keys == {} and state.charges() == []
    [failed] = state.events(PaymentFailed)
    assert failed.code == "processing_error"
    retried = await pay_order(pay("tok_processingError", idem=key()), units(state), d)
    assert retried.payment.status is PaymentStatus.SUCCEEDED and retried.replayed is False


async def test_the_same_key_replays_the_first_answer_and_another_request_with_it_is_refused() -> None:
    state = PaymentsState.with_order()
    first = await pay_order(pay(idem=key()), units(state), deps(state))
    again = await pay_order(pay(idem=key()), units(state), deps(state))
    assert again == Charged(first.payment, replayed=True)
    with pytest.raises(IdempotencyKeyReused):
        await pay_order(pay("tok_chargeDeclined", idem=key(token="tok_chargeDeclined")), units(state), deps(state))
    assert len(state.charges()) == 1


async def test_a_replayed_decline_is_the_same_decline() -> None:
    state = PaymentsState.with_order()
    k = key(token="tok_chargeDeclined")
    with pytest.raises(CardDeclined) as first:
        await pay_order(pay("tok_chargeDeclined", idem=k), units(state), deps(state))
    with pytest.raises(CardDeclined) as again:
        await pay_order(pay("tok_chargeDeclined", idem=k), units(state), deps(state))
    assert again.value.payment == first.value.payment and again.value.replayed
    assert len(state.payments) == 1  # the replay asked the provider nothing


async def test_twenty_at_once_make_one_charge_with_or_without_the_same_key() -> None:
    for idem in (None, key()):
        state, provider = PaymentsState.with_order(), GatedProvider()
        d = deps(state, provider)
        tasks = [asyncio.create_task(pay_order(pay(idem=idem), units(state), d)) for _ in range(20)]
        await provider.asked.wait()  # by now every request has reached the provider or been refused
        provider.release()
        results: list[Any] = await asyncio.gather(*tasks, return_exceptions=True)
        charged = [r for r in results if isinstance(r, Charged)]
        refused = OrderAlreadyCharged if idem is None else RequestInProgress
        assert len(charged) == 1 and all(isinstance(r, refused) for r in results if r not in charged)
        assert len(provider.charges) == 1 and len(state.charges()) == 1


async def test_a_request_with_a_key_whose_first_is_still_running_is_refused() -> None:
    state, provider = PaymentsState.with_order(), GatedProvider()
    d = deps(state, provider)
    first = asyncio.create_task(pay_order(pay(idem=key()), units(state), d))
    await provider.asked.wait()
    with pytest.raises(RequestInProgress):
        await pay_order(pay(idem=key()), units(state), d)
    provider.release()
    assert (await first).payment.status is PaymentStatus.SUCCEEDED
    assert (await pay_order(pay(idem=key()), units(state), d)).replayed


async def test_an_order_the_replica_has_not_heard_of_is_asked_of_the_kitchen() -> None:
    """Paying right after the 201: the replica is empty or still says pending; the kitchen knows."""
    reserved = OrderState(ORDER.order_id, "alice", 900, OrderStatus.RESERVED, 2)
    for replica in ({}, {ORDER.order_id: OrderState(ORDER.order_id, "alice", 900, OrderStatus.PENDING, 1)}):
        state, kitchen = PaymentsState(orders=dict(replica)), FakeKitchen(reserved)
        charged = await pay_order(pay(), units(state), deps(state, kitchen=kitchen))
        assert charged.payment.status is PaymentStatus.SUCCEEDED and kitchen.asked == [ORDER.order_id]


async def test_an_order_nobody_knows_or_someone_elses_is_unknown_and_a_silent_kitchen_a_503() -> None:
    state, kitchen = PaymentsState(), FakeKitchen()
    with pytest.raises(UnknownOrder):
        await pay_order(pay(), units(state), deps(state, kitchen=kitchen))
    with pytest.raises(UnknownOrder):
        await pay_order(pay(payer="mallory"), units(PaymentsState.with_order()), deps(state))
    kitchen.down = True
    with pytest.raises(KitchenUnavailable):
        await pay_order(pay(), units(state), deps(state, kitchen=kitchen))
    assert state.payments == {}


async def test_a_settled_order_is_refused_on_the_replicas_word_alone() -> None:
    expired = OrderState(ORDER.order_id, "alice", 900, OrderStatus.EXPIRED, 3)
    state, kitchen = PaymentsState.with_order(expired), FakeKitchen()
    with pytest.raises(OrderNotPayable):
        await pay_order(pay(), units(state), deps(state, kitchen=kitchen))
    assert kitchen.asked == [] and state.payments == {}


async def test_a_charge_whose_request_died_is_settled_by_asking_again() -> None:
    state, provider = PaymentsState.with_order(), GatedProvider()
    d = deps(state, provider)
    dying = asyncio.create_task(pay_order(pay(idem=key()), units(state), d))
    await provider.asked.wait()
    dying.cancel()  # the process died while the provider was being asked
    [stuck] = state.payments.values()
    assert stuck.status is PaymentStatus.PROCESSING
    provider.release()
    settled = await settle_stuck_payment(c.SettleStuckPayment(stuck.id), units(state), d)
    assert settled.status is PaymentStatus.SUCCEEDED and provider.charges == [stuck.id, stuck.id]
    assert (await pay_order(pay(idem=key()), units(state), d)) == Charged(settled, replayed=True)
