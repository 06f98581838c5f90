"""Supply commands that come while one's first step runs take theirs together, on real PostgreSQL and
NATS: one transaction registers their requests and delivers those the stock covers, each on the stock
as the one before left it and in its own command's context; one that must buy goes on alone."""

from __future__ import annotations

import re

import pytest

from brigade_common.envelope import Envelope
from brigade_contracts import warehouse as w
from services.warehouse.tests.integration.harness import (
    WarehouseClient,
    check_invariants,
    command,
    eventually,
    market,
    purchases_for,
)


def _metric(page: str, name: str) -> float:
    found = re.search(rf"^{name} ([0-9.e+-]+)$", page, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def _metrics(wh: WarehouseClient) -> str:
    return (await wh.http.get("/metrics")).text


async def test_commands_that_came_while_one_ran_open_together_each_as_alone(
    warehouse: WarehouseClient, nats_url: str
) -> None:
    before = await _metrics(warehouse)
    first = command("pollo", 1)
    group = [command("pollo", 2), command("pollo", 2), command("lechuga", 2)]  # pollo 4, lechuga 2 in stock
    sent: dict[str, Envelope] = {}
    async with warehouse.db.acquire() as holder:  # pollo's row, held: the first command waits for it
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM stock WHERE ingredient = 'pollo' FOR UPDATE")
        sent[first["request_id"]], _ = await warehouse.send(first)

        async def blocked() -> bool:
            n = await warehouse.db.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'warehouse' "
                "AND wait_event_type = 'Lock'"
            )
            return int(n) >= 1

        await eventually(blocked, 15, "the first command waiting for pollo's row")
        for cmd in group:
            sent[cmd["request_id"]], _ = await warehouse.send(cmd)

        async def queued() -> bool:
            return _metric(await _metrics(warehouse), "warehouse_supplies_waiting") == len(group)

        await eventually(queued, 15, "the three commands waiting for the transaction that runs")
        await tx.rollback()
        async with market(nats_url, seed=7, max_units=5):
            outcomes = {cmd["request_id"]: await warehouse.outcome(cmd["request_id"]) for cmd in (first, *group)}
            await check_invariants(warehouse)

    # pollo 4: 1 for the first, 2 for the pollo command the group took first (the handlers reach it in
    # any order); the other found 1 on hand and bought only the one missing. Lechuga was in stock.
    assert all(subject == w.SUPPLY_DELIVERED for subject, _ in outcomes.values())
    assert await purchases_for(warehouse, group[2]["request_id"]) == []
    bought = [await purchases_for(warehouse, cmd["request_id"]) for cmd in group[:2]]
    assert sorted(bool(b) for b in bought) == [False, True]
    assert all(p["requested"] == 1 for b in bought for p in b)
    after = await _metrics(warehouse)

    def more(name: str) -> float:
        return _metric(after, name) - _metric(before, name)

    # Two first steps registered the four requests (the first alone, then the three).
    assert more("warehouse_supplies_opened_together_count") == 2
    assert more("warehouse_supplies_opened_together_sum") == 4
    # Each outcome was caused by its own command, in its correlation.
    for _, env in await warehouse.stream(w.SUPPLY_DELIVERED):
        cause = sent[env.data["request_id"]]
        assert (env.causation_id, env.correlation_id) == (cause.id, cause.correlation_id)


@pytest.mark.parametrize(
    "warehouse_settings",
    [{"supply_deadline_s": 20.0, "market_timeout_s": 10.0, "market_retry_s": 0.05}],  # the market is slow here
)
async def test_purchases_made_while_a_turn_ran_are_stocked_together_each_delivered_to_its_buyer(
    warehouse: WarehouseClient, nats_url: str
) -> None:
    before = await _metrics(warehouse)
    cmds = [command("azafran", 2) for _ in range(3)]  # none in stock: each must buy
    sent: dict[str, Envelope] = {}
    async with market(nats_url, seed=7, max_units=1000, latency_ms=2000):  # time to hold the row meanwhile
        for cmd in cmds:
            sent[cmd["request_id"]], _ = await warehouse.send(cmd)

        async def registered() -> bool:
            return all([await warehouse.request_status(cmd["request_id"]) == "open" for cmd in cmds])

        await eventually(registered, 15, "the three requests registered, their market calls under way")
        async with warehouse.db.acquire() as holder:  # azafran's row, held while the purchases come back
            tx = holder.transaction()
            await tx.start()
            await holder.execute("SELECT 1 FROM stock WHERE ingredient = 'azafran' FOR UPDATE")

            split: list[int] = []  # purchases in the turn at the row, and waiting for it

            async def all_back() -> bool:
                # The turn at the row holds its requests' rows; the turns that came meanwhile wait in the
                # process. Once the three purchases are one or the other, they go in at most two turns.
                async with warehouse.db.acquire() as probe, probe.transaction():
                    free = await probe.fetch("SELECT id FROM supply_requests FOR UPDATE SKIP LOCKED")
                waiting = int(_metric(await _metrics(warehouse), "warehouse_supplies_waiting"))
                split[:] = [len(cmds) - len(free), waiting]
                return split[0] > 0 and sum(split) == len(cmds)

            await eventually(all_back, 15, "the three purchases back: one turn at the row, the rest waiting")
            await tx.rollback()
        outcomes = [await warehouse.outcome(cmd["request_id"]) for cmd in cmds]
        await check_invariants(warehouse)

    assert all(subject == w.SUPPLY_DELIVERED for subject, _ in outcomes)
    for cmd in cmds:  # each bought its own two, once
        assert [(p["requested"], p["received"]) for p in await purchases_for(warehouse, cmd["request_id"])] == [(2, 2)]
    assert (await warehouse.stock())["azafran"] == 0
    after = await _metrics(warehouse)

    def more(name: str) -> float:
        return _metric(after, name) - _metric(before, name)

    # The purchases in the turn that waited for the row, then those that came meanwhile, together.
    assert more("warehouse_purchases_stocked_together_count") == len([n for n in split if n])
    assert more("warehouse_purchases_stocked_together_sum") == 3
    for _, env in await warehouse.stream(w.SUPPLY_DELIVERED):  # each in its own command's correlation
        cause = sent[env.data["request_id"]]
        assert (env.causation_id, env.correlation_id) == (cause.id, cause.correlation_id)
