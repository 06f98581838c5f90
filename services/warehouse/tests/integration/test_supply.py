"""The supply saga step, end to end: real `warehouse.cmd.supply.v1` envelopes on JetStream, a real market
over NATS request-reply, and what the warehouse leaves in its stream, its database and its HTTP API."""

from __future__ import annotations

import asyncio
import uuid

from brigade_contracts import warehouse as w
from brigade_market.market import Market
from services.warehouse.tests.integration.harness import (
    SEED_STOCK,
    WarehouseClient,
    check_invariants,
    command,
    eventually,
    market,
    movements_for,
    purchases_for,
    settled,
)


async def test_enough_stock_delivers_once_and_debits_it(warehouse: WarehouseClient) -> None:
    cmd = command("lechuga", 2)
    env, _ = await warehouse.send(cmd)

    subject, payload = await warehouse.outcome(cmd["request_id"])

    assert subject == w.SUPPLY_DELIVERED
    assert payload == {k: cmd[k] for k in ("request_id", "order_id", "ingredient", "amount")}
    [(_, delivered)] = await warehouse.stream(w.SUPPLY_DELIVERED)
    assert delivered.causation_id == env.id and delivered.correlation_id == env.correlation_id
    assert await warehouse.stock() == {"lechuga": 0, "pollo": 4}
    [movement] = await movements_for(warehouse, cmd["request_id"])
    assert (movement["ingredient"], movement["delta"], movement["reason"]) == ("lechuga", -2, "supply")
    [moved] = await warehouse.events(w.STOCK_MOVED, cmd["request_id"])
    assert (moved["delta"], moved["balance"], moved["reason"]) == (-2, 0, "supply")
    assert await purchases_for(warehouse, cmd["request_id"]) == []
    assert await warehouse.request_status(cmd["request_id"]) == "delivered"
    await check_invariants(warehouse)


async def test_a_short_request_buys_what_is_missing_until_it_can_deliver(
    warehouse: WarehouseClient, nats_url: str
) -> None:
    cmd = command("pollo", 20)
    async with market(nats_url, seed=7, max_units=3):
        await warehouse.send(cmd)
        subject, payload = await warehouse.outcome(cmd["request_id"])

    assert subject == w.SUPPLY_DELIVERED and payload["amount"] == 20
    purchases = await purchases_for(warehouse, cmd["request_id"])
    # The warehouse asks for what is still missing each time; the market never gives more than asked.
    have = SEED_STOCK["pollo"]
    for p in purchases:
        assert p["requested"] == 20 - have
        assert 0 <= p["received"] <= min(p["requested"], 3)
        have += p["received"]
    assert have >= 20 and have - purchases[-1]["received"] < 20, "it stops buying as soon as it has enough"
    # Same seed, same answers: the run is reproducible.
    replay = Market.create(7, max_units=3)
    assert [(p["received"], p["supplier"]) for p in purchases] == [
        replay.buy("pollo", p["requested"]) for p in purchases
    ]
    # Each purchase that brought something is a `+received purchase` movement, then one `-20 supply`.
    ledger = await movements_for(warehouse, cmd["request_id"])
    assert [(m["delta"], m["reason"]) for m in ledger] == [
        *((p["received"], "purchase") for p in purchases if p["received"]),
        (-20, "supply"),
    ]
    made = await warehouse.events(w.PURCHASE_MADE, cmd["request_id"])
    assert [(e["purchase_id"], e["received"]) for e in made] == [(p["id"], p["received"]) for p in purchases]
    assert (await warehouse.stock())["pollo"] == have - 20
    await check_invariants(warehouse)


async def test_the_same_command_twice_delivers_and_debits_once(warehouse: WarehouseClient) -> None:
    cmd = command("pollo", 3)
    env, first = await warehouse.send(cmd)
    # The kitchen's relay re-publishing the same outbox row: the broker drops it.
    _, again = await warehouse.send(cmd, envelope=env)
    assert not first.duplicate and again.duplicate
    # The same envelope past the broker's duplicate window (a new Nats-Msg-Id): the inbox drops it.
    _, resent = await warehouse.send(cmd, envelope=env, msg_id=str(uuid.uuid4()))
    assert not resent.duplicate
    # A new envelope for the same request (say, a kitchen replaying its command): the request id drops it.
    await warehouse.send(cmd)
    await settled(warehouse)

    assert len(await warehouse.stream(w.SUPPLY_CMD)) == 3
    assert await warehouse.events(w.SUPPLY_DELIVERED) == [{k: cmd[k] for k in cmd}]
    assert [m["delta"] for m in await movements_for(warehouse, cmd["request_id"])] == [-3]
    assert (await warehouse.stock())["pollo"] == 1
    assert await warehouse.dead_letters() == []
    await check_invariants(warehouse)


async def test_duplicates_racing_through_the_buy_loop_still_deliver_once(
    warehouse: WarehouseClient, nats_url: str
) -> None:
    cmd = command("lechuga", 12)
    async with market(nats_url, seed=3, max_units=2, latency_ms=20):
        env, _ = await warehouse.send(cmd)
        await warehouse.send(cmd, envelope=env, msg_id=str(uuid.uuid4()))
        await warehouse.send(cmd)
        await settled(warehouse)

    assert await warehouse.events(w.SUPPLY_DELIVERED) == [cmd]
    supply_moves = [m for m in await movements_for(warehouse, cmd["request_id"]) if m["reason"] == "supply"]
    assert [m["delta"] for m in supply_moves] == [-12]
    await check_invariants(warehouse)


async def test_a_request_waits_for_the_market_to_come_back(warehouse: WarehouseClient, nats_url: str) -> None:
    cmd = command("pollo", 9)
    await warehouse.send(cmd)
    await eventually(lambda: warehouse.request_status(cmd["request_id"]), what="the request registered")
    assert await warehouse.events(w.SUPPLY_DELIVERED) == []

    async with market(nats_url, seed=11):
        subject, _ = await warehouse.outcome(cmd["request_id"])

    assert subject == w.SUPPLY_DELIVERED
    await check_invariants(warehouse)


async def test_malformed_commands_are_dead_lettered_and_the_consumer_carries_on(
    warehouse: WarehouseClient,
) -> None:
    good = command("lechuga", 1)
    no_ingredient = command("pollo", 1)
    del no_ingredient["ingredient"]
    bad = {
        "amount 0": command("pollo", 0),
        "missing field": no_ingredient,
        "bad ingredient": command("Pollo; DROP TABLE stock", 1),
        "unknown field": {**command("pollo", 1), "price": 3},
        "request id not a uuid": command("pollo", 1, request_id="req-1"),
    }
    sent = [await warehouse.send(data) for data in bad.values()]
    await warehouse.send_raw(b"this is not an envelope")
    await warehouse.send(good)

    subject, _ = await warehouse.outcome(good["request_id"])
    assert subject == w.SUPPLY_DELIVERED
    await settled(warehouse)

    letters = await eventually(warehouse.dead_letters, what="dead letters")
    assert len(letters) == len(bad) + 1
    by_payload = {letter.data: letter for letter in letters}
    for (env, _), expected in zip(sent, ("amount", "ingredient", "ingredient", "price", "request_id"), strict=True):
        letter = by_payload[env.to_bytes()]
        assert letter.subject == "dlq.warehouse.warehouse-supply"
        assert letter.original_subject == w.SUPPLY_CMD
        assert expected in letter.error, letter.error
    assert "invalid envelope" in by_payload[b"this is not an envelope"].error
    # Nothing of the bad commands reached the database.
    assert await warehouse.db.fetchval("SELECT count(*) FROM supply_requests") == 1
    assert await warehouse.stock() == {"lechuga": 1, "pollo": 4}
    await check_invariants(warehouse)


async def test_concurrent_requests_on_scarce_stock_never_go_negative(warehouse: WarehouseClient, nats_url: str) -> None:
    """A mixed load: ten requests racing for two ingredients, a flaky market, and duplicates. Afterwards
    every request has one outcome and every balance is the sum of its ledger."""
    cmds = [command("lechuga" if i % 2 else "pollo", 3 + i % 4) for i in range(10)]
    async with market(nats_url, seed=5, max_units=4, failure_rate=0.3):
        sent = await asyncio.gather(*(warehouse.send(c) for c in cmds))
        await warehouse.send(cmds[0], envelope=sent[0][0], msg_id=str(uuid.uuid4()))
        for c in cmds:
            await warehouse.outcome(c["request_id"])
        await settled(warehouse)

    delivered = await warehouse.events(w.SUPPLY_DELIVERED)
    assert sorted(e["request_id"] for e in delivered) == sorted(c["request_id"] for c in cmds)
    assert await warehouse.dead_letters() == []
    await check_invariants(warehouse)
