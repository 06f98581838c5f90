"""The order replica through its real consumer: out-of-order and duplicated order events never move
it backwards; an order it has not heard of is asked of the kitchen by request-reply."""

from __future__ import annotations

from brigade_common.testing.waiting import eventually
from services.payments.tests.integration.harness import (
    PaymentsClient,
    kitchen_answering,
    new_order_id,
    problem,
    snapshot,
)


async def test_late_and_repeated_order_events_never_move_the_replica_backwards(payments: PaymentsClient) -> None:
    order_id = new_order_id()
    placed, reserved, expired = (snapshot(order_id, s, v) for s, v in (("pending", 1), ("reserved", 2), ("expired", 3)))
    await payments.publish_order(expired)  # the expiry overtook the reservation (two kitchen relays)
    await payments.publish_order(reserved)
    again = await payments.publish_order(expired)
    await payments.publish_order(expired)  # the same state once more, under a new envelope id
    await payments.publish_order(placed)
    await payments.publish_order(reserved, envelope_id=again.id)  # a replay the inbox stops

    async def all_handled() -> bool:
        n = await payments.db.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'payments-orders'")
        return int(n) == 5

    await eventually(all_handled, 10, "the consumer through every event")
    assert await payments.replica(order_id) == ("expired", 3)
    late = await payments.pay(order_id)
    assert late.status_code == 409 and problem(late)["order_status"] == "expired"


async def test_an_order_the_replica_has_not_heard_of_is_asked_of_the_kitchen(payments: PaymentsClient) -> None:
    """Paying the moment the kitchen answered 201, before its event reached the replica (seed 003's
    existence check, by request-reply)."""
    fresh, pending_here = new_order_id(), new_order_id()
    await payments.known(snapshot(pending_here, "pending", 1))
    kitchen_holds = {fresh: snapshot(fresh), pending_here: snapshot(pending_here)}
    async with kitchen_answering(payments.app, kitchen_holds) as asked:
        assert (await payments.pay(fresh)).status_code == 201
        assert (await payments.pay(pending_here)).status_code == 201  # the replica still said pending
        assert asked == [fresh, pending_here]
        unknown = new_order_id()
        r = await payments.pay(unknown)
        assert r.status_code == 404 and asked[-1] == unknown
    # Nobody answers for the kitchen: not "no such order", but "try again".
    r = await payments.pay(new_order_id())
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert problem(r)["dependency"] == "kitchen"
