"""The live benchmark's commit → receive figures: timed from the ledger row's `created_at` when the
event carries it, from the envelope's `occurred_at` otherwise, and the section says which."""

from __future__ import annotations

import asyncio
from datetime import datetime

from tests.bench.live import Options, Results, section_body
from tests.bench.live_orders import OrderFeedRow, Sink
from tests.bench.machine import Machine

COMMIT = "2026-12-01T15:00:00.000000+00:00"
OUTBOX = "2026-12-01T15:00:00.004000+00:00"
SECOND_NS = 1_000_000_000


def moved(movement: int, created_at: str | None = None) -> dict[str, object]:
    data: dict[str, object] = {"movement_id": movement, "ingredient": "lechuga", "delta": 5, "reason": "delivery"}
    if created_at:
        data["created_at"] = created_at
    return {"type": "kitchen.pantry.moved.v1", "occurred_at": OUTBOX, "data": data}


def at(iso: str, plus_ms: int) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * SECOND_NS) + plus_ms * 1_000_000


def test_a_row_is_timed_from_its_created_at_when_the_event_has_it_else_from_occurred_at() -> None:
    sink = Sink()
    sink.received(moved(1, created_at=COMMIT), at(COMMIT, 12))
    sink.received(moved(2), at(OUTBOX, 7))
    assert sink.latencies_ns == {1: [12_000_000], 2: [7_000_000]}
    assert {m: source for m, (_, source) in sink.commits.items()} == {1: "created_at", 2: "occurred_at"}


def test_the_wait_ends_once_every_client_has_every_row() -> None:
    async def scenario() -> None:
        sink = Sink()
        sink.received(moved(1), at(OUTBOX, 1))
        done = sink.expect([1, 2], clients=2)
        sink.received(moved(1), at(OUTBOX, 1))
        sink.received(moved(2), at(OUTBOX, 1))
        assert not done.is_set()
        sink.received(moved(2), at(OUTBOX, 1))
        assert done.is_set()

    asyncio.run(scenario())


def test_the_section_says_which_time_the_figures_start_from() -> None:
    row = OrderFeedRow(100, 5, 20, placed=100, statuses={"reserved": 100}, movements=200)
    row.latencies_s = [0.010] * 18_000 + [0.050] * 2_000
    row.stamps["occurred_at"] = 200
    machine = Machine("2", "23.5 GiB", "Xeon", "Linux", "CPython 3.11.7", "18.6", "2.15.1", "2026-12-01 16:00 UTC")
    opts = Options([], 0, 0, False, None, [100], 5, 20)
    body = section_body(Results(machine, orders=[row]), "uv run --frozen python -m tests.bench.live", opts)
    assert (
        "| 100 | 5 × 20 | 100 / 0 | reserved 100 | 200 | 20,000 | 10.00 | 50.00 | 50.00 | 0 | `occurred_at` |" in body
    )
    assert "| PostgreSQL | 18.6 |" in body
