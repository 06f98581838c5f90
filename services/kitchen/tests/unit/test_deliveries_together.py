"""Deliveries applied together, against in-memory fakes: one transaction applies each delivery as it
would be applied alone, and a delivery it cannot apply gets the outcome it would have had alone. No
servers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from brigade_common.messaging import AlreadyProcessed, InboxEntry, MessageContext
from brigade_contracts.kitchen import OrderStatus, PantryReason, StepKind
from brigade_kitchen.domain.errors import UnknownSupplyRequest
from brigade_kitchen.domain.events import PantryMoved, StepTaken, SupplyRequested, order_of
from brigade_kitchen.domain.journey import delivered_key, purchase_key
from brigade_kitchen.domain.model import Order
from brigade_kitchen.service import commands as c
from brigade_kitchen.service import handlers
from brigade_kitchen.service.kitchen import Kitchen
from services.kitchen.tests.unit.fake_views import FakeViews
from services.kitchen.tests.unit.fake_waiters import FakeWaiters
from services.kitchen.tests.unit.fakes import FakeOrders, FakeUnitOfWork, KitchenState, deps

Job = tuple[c.ApplyDelivery | c.RecordPurchase, MessageContext, InboxEntry]
UNKNOWN = "6f1c0000-0000-4000-8000-00000000dead"
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


async def _waiting(state: KitchenState) -> list[SupplyRequested]:
    """Two pending orders of ensalada-cesar (lechuga 5, pollo 2) on an empty pantry, placed for the
    requests `corr-1` and `corr-2`: each asked the warehouse for lechuga and pollo."""
    d = deps()  # one id source: every request its own id
    for i in (1, 2):
        place = c.PlaceOrder(f"o-{i}", "alice", "ensalada-cesar", 1)
        await handlers.place_order(place, FakeUnitOfWork(state, MessageContext(f"corr-{i}")), d)
    return [e for e in state.events(SupplyRequested) if isinstance(e, SupplyRequested)]


def _job(req: SupplyRequested, message_id: str, request_id: str | None = None) -> Job:
    """The warehouse's delivery of all `req` asked for, in a message caused by the order's request."""
    return (
        c.ApplyDelivery(request_id or req.request_id, req.amount),
        MessageContext(f"corr-{req.order_id[-1]}", message_id),
        InboxEntry("kitchen-supply", message_id),
    )


def _empty() -> KitchenState:
    return KitchenState.seeded({"lechuga": 0, "pollo": 0})


async def test_one_transaction_applies_every_delivery_as_alone_each_order_with_its_own_context() -> None:
    state = _empty()
    requests = await _waiting(state)
    commits, sent = state.commits, len(state.published)
    jobs = [_job(req, f"m-{n}") for n, req in enumerate(requests)]
    applied = await handlers.apply_deliveries(jobs, FakeUnitOfWork(state, MessageContext("group")), deps())
    assert applied == [True, True, True, True]
    assert state.commits == commits + 1
    assert [state.orders[o].status for o in ("o-1", "o-2")] == [OrderStatus.RESERVED, OrderStatus.RESERVED]
    assert state.pantry == {"lechuga": [10, 10], "pollo": [4, 4]}
    moved = [e for e in state.events(PantryMoved) if isinstance(e, PantryMoved)]
    assert sorted((m.order_id, m.ingredient, m.delta, m.reason) for m in moved) == [
        ("o-1", "lechuga", 5, PantryReason.DELIVERY),
        ("o-1", "pollo", 2, PantryReason.DELIVERY),
        ("o-2", "lechuga", 5, PantryReason.DELIVERY),
        ("o-2", "pollo", 2, PantryReason.DELIVERY),
    ]
    # Every message of the group speaks for its order's delivery, none for the group's own context.
    contexts = {(order_of(p.event), p.context.correlation_id) for p in state.published[sent:]}
    assert contexts == {("o-1", "corr-1"), ("o-2", "corr-2")}
    assert state.inbox == {inbox for _, _, inbox in jobs}


async def test_a_message_processed_before_or_twice_in_the_group_has_no_second_effect() -> None:
    state = _empty()
    first, *_ = await _waiting(state)
    await handlers.apply_deliveries([_job(first, "m-1")], FakeUnitOfWork(state, MessageContext("g1")), deps())
    before = (dict(state.pantry), len(state.published))
    again = [_job(first, "m-1"), _job(first, "m-2"), _job(first, "m-2")]  # m-2: the same request, delivered again
    applied = await handlers.apply_deliveries(again, FakeUnitOfWork(state, MessageContext("g2")), deps())
    assert applied == [False, True, False]
    # m-2 is a second delivery for a settled request: recorded in the inbox, it changes nothing.
    assert state.pantry == before[0]
    assert {e.message_id for e in state.inbox} == {"m-1", "m-2"}


async def test_a_delivery_for_an_unknown_request_is_left_unclaimed_to_be_applied_alone() -> None:
    state = _empty()
    first, *_ = await _waiting(state)
    jobs = [_job(first, "m-1", request_id=UNKNOWN), _job(first, "m-2")]
    applied = await handlers.apply_deliveries(jobs, FakeUnitOfWork(state, MessageContext("g")), deps())
    assert applied == [None, True]
    assert {e.message_id for e in state.inbox} == {"m-2"}


def _purchase(req: SupplyRequested, message_id: str, purchase_id: int, request_id: str | None = None) -> Job:
    """The warehouse's purchase of all `req` asked for, in a message caused by the order's request."""
    return (
        c.RecordPurchase(purchase_id, request_id or req.request_id, req.amount, "La Granja", NOW),
        MessageContext(f"corr-{req.order_id[-1]}", message_id),
        InboxEntry("kitchen-purchases", message_id),
    )


async def test_purchases_are_steps_of_their_journeys_in_their_own_messages_contexts_and_change_no_order() -> None:
    state = _empty()
    lechuga, pollo, *_ = await _waiting(state)
    sent, before = len(state.published), state.orders["o-1"].version
    jobs = [_purchase(lechuga, "m-bought", 7), _purchase(pollo, "m-bought-2", 8), _purchase(lechuga, "m-x", 9, UNKNOWN)]
    recorded = await handlers.record_purchases(jobs, FakeUnitOfWork(state, MessageContext("group")), deps())
    assert recorded == [True, True, True]  # a purchase for a request the kitchen never made: acknowledged
    steps = [p for p in state.published[sent:] if isinstance(p.event, StepTaken)]
    assert [(p.event.key, p.event.kind) for p in steps] == [  # type: ignore[attr-defined]
        (purchase_key(7), StepKind.PURCHASED),
        (purchase_key(8), StepKind.PURCHASED),
    ]
    assert [p.context.causation_id for p in steps] == ["m-bought", "m-bought-2"]
    assert {e.message_id for e in state.inbox} >= {"m-bought", "m-bought-2", "m-x"}
    assert (state.orders["o-1"].status, state.orders["o-1"].version) == (OrderStatus.PENDING, before)
    again = await handlers.record_purchases(jobs[:1], FakeUnitOfWork(state, MessageContext("again")), deps())
    assert again == [False]  # its message was processed already


class HeldUp(FakeUnitOfWork):
    """A transaction that says it `began`, then waits until `go` is set (as one waits for a lock)."""

    began = asyncio.Event()
    go = asyncio.Event()

    async def __aenter__(self) -> HeldUp:
        await super().__aenter__()
        self.began.set()
        await self.go.wait()
        return self


async def test_a_purchase_does_not_wait_for_the_delivery_transaction_that_runs() -> None:
    state = _empty()
    lechuga, *_ = await _waiting(state)
    uows: list[FakeUnitOfWork] = []
    k = _delivering(state, uows, first=HeldUp)
    HeldUp.began, HeldUp.go = asyncio.Event(), asyncio.Event()
    cmd, context, inbox = _job(lechuga, "m-delivered")
    delivering = asyncio.create_task(k.receive(cmd, context=context, inbox=inbox))
    await HeldUp.began.wait()  # the delivery's transaction has begun, and waits
    bought, context, inbox = _purchase(lechuga, "m-bought", 7)
    async with asyncio.timeout(5):  # a ceiling: behind the delivery, it would wait for ever
        await k.receive(bought, context=context, inbox=inbox)  # recorded meanwhile, in a transaction of its own
    assert not delivering.done() and [u.committed for u in uows] == [False, True]
    assert purchase_key(7) in state.steps[lechuga.order_id]
    HeldUp.go.set()
    await delivering
    assert delivered_key(lechuga.request_id) in state.steps[lechuga.order_id]


def _delivering(
    state: KitchenState, uows: list[FakeUnitOfWork], first: type[FakeUnitOfWork] = FakeUnitOfWork
) -> Kitchen:
    """A kitchen of one delivery transaction at a time (deliveries that come meanwhile go together);
    its first unit of work is a `first`."""

    def uow(context: MessageContext, inbox: InboxEntry | None) -> FakeUnitOfWork:
        uows.append((FakeUnitOfWork if uows else first)(state, context, inbox))
        return uows[-1]

    return Kitchen(
        uow=uow, views=FakeViews(state), waiters=FakeWaiters(), deps=deps(), order_wait_s=0, max_concurrent_deliveries=1
    )


async def _deliver_all(k: Kitchen, jobs: Sequence[Job]) -> list[object]:
    return await asyncio.gather(
        *(k.receive(cmd, context=context, inbox=inbox) for cmd, context, inbox in jobs), return_exceptions=True
    )


async def test_deliveries_that_come_at_once_go_in_one_transaction_and_each_gets_its_own_outcome() -> None:
    """Deliveries that come in the same instant go in one transaction. The redelivered message is
    acknowledged as processed; the unknown request is tried alone after it and gets its error."""
    state = _empty()
    requests = await _waiting(state)
    uows: list[FakeUnitOfWork] = []
    k = _delivering(state, uows)
    jobs = [
        *(_job(req, f"m-{n}") for n, req in enumerate(requests)),
        _job(requests[0], "m-0"),  # m-0 again
        _job(requests[0], "m-x", request_id=UNKNOWN),
    ]
    outcomes = await _deliver_all(k, jobs)
    assert outcomes[:4] == [None, None, None, None]
    assert isinstance(outcomes[4], AlreadyProcessed) and isinstance(outcomes[5], UnknownSupplyRequest)
    assert [len(u.claimed) for u in uows] == [4, 0]  # the group, then the unknown request alone
    assert [u.committed for u in uows] == [True, False]
    assert [state.orders[o].status for o in ("o-1", "o-2")] == [OrderStatus.RESERVED, OrderStatus.RESERVED]
    assert state.pantry == {"lechuga": [10, 10], "pollo": [4, 4]}


class BrokenGroup(FakeOrders):
    async def for_supply_requests(self, request_ids: Sequence[str]) -> dict[str, Order]:
        if len(request_ids) > 1:
            raise ConnectionResetError("the connection broke")
        return await super().for_supply_requests(request_ids)


class BreaksGroups(FakeUnitOfWork):
    async def __aenter__(self) -> BreaksGroups:
        await super().__aenter__()
        self.orders = BrokenGroup(self._state)
        return self


async def test_when_the_groups_transaction_fails_each_delivery_is_applied_alone() -> None:
    state = _empty()
    requests = await _waiting(state)
    uows: list[FakeUnitOfWork] = []
    k = _delivering(state, uows, first=BreaksGroups)
    jobs = [_job(req, f"m-{n}") for n, req in enumerate(requests[:2])]
    assert await _deliver_all(k, jobs) == [None, None]  # both applied (come together: one group)
    assert isinstance(uows[0], BreaksGroups) and not uows[0].committed
    assert [u.committed for u in uows[1:]] == [True, True]  # one transaction each, after the group's failed
    assert state.orders["o-1"].status is OrderStatus.RESERVED


async def test_a_lone_delivery_whose_transaction_fails_gets_its_error() -> None:
    class Broken(FakeOrders):
        async def for_supply_requests(self, request_ids: Sequence[str]) -> dict[str, Order]:
            raise ConnectionResetError("the connection broke")

    class BrokenUow(FakeUnitOfWork):
        async def __aenter__(self) -> BrokenUow:
            await super().__aenter__()
            self.orders = Broken(self._state)
            return self

    state = _empty()
    [first, *_] = await _waiting(state)
    uows: list[FakeUnitOfWork] = []
    k = _delivering(state, uows, first=BrokenUow)
    cmd, context, inbox = _job(first, "m-0")
    with pytest.raises(ConnectionResetError):
        await k.receive(cmd, context=context, inbox=inbox)
    assert len(uows) == 1  # not tried again alone: the consumer's retry (or outage) rules decide
