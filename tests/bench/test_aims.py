"""The aims table of `make bench` on made-up figures: default durability, each hop against the floor,
and (c) against (b) plus the market's own latency."""

from __future__ import annotations

from tests.bench.hops import Hop
from tests.bench.report import aims
from tests.bench.run import Results
from tests.bench.stats import Step


def step(label: str, clients: int, latency_s: float, orders: int = 100) -> Step:
    return Step(label, clients, 1.0, latencies_s=[latency_s] * orders)


def test_default_durability_is_judged_at_75_percent_of_its_own_plain_route() -> None:
    res = Results(
        sections={"durable:plain": [step("plain", 16, 0.01, 1000)], "durable:pantry": [step("a", 16, 0.02, 760)]}
    )
    assert "PostgreSQL's default durability | 760.0 vs 1,000.0 = 76% | yes |" in "\n".join(aims(res))


def test_the_slowest_hop_is_judged_against_the_floor_and_c_against_b_plus_the_market() -> None:
    slow = Hop(1, "warehouse.cmd.supply.v1", "warehouse-supply", relay_s=[0.002] * 100, delivery_s=[0.004] * 100)
    quick = Hop(1, "warehouse.supply.delivered.v1", "kitchen-supply", relay_s=[0.001] * 100, delivery_s=[0.001] * 100)
    res = Results(
        floors=[step("JetStream publish→consume", 1, 0.0005)],
        sections={"warehouse": [step("b", 1, 0.010)], "market": [step("c", 1, 0.014)]},
        hops={"warehouse": [slow, quick]},
        in_warehouse={"warehouse": {1: [0.001] * 100}, "market": {1: [0.004] * 100}},
    )
    rows = "\n".join(aims(res))
    assert (
        "each JetStream hop's p99 within 10× the floor's, 1 clients (the slowest hop) | 6.0 ms = 12.0× | no |" in rows
    )
    # The market adds 3 ms to a request's time in the warehouse: (c) may take 10 + 3 ms, it took 14.
    assert "| 14.0 ms vs 10.0 + 3.0 = 13.0 ms | no |" in rows
