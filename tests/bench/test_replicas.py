"""The replicas comparison's arithmetic: repeats averaged, the ratio to one process, the aim, the CPU
per order, and the option that asks for it."""

from __future__ import annotations

from tests.bench import holds
from tests.bench.options import parse
from tests.bench.report import aims, replica_pairs, replicas_section
from tests.bench.run import Results, replicas_label
from tests.bench.stats import Step


def step(processes: int, clients: int, orders: int, kitchen_cores: float) -> Step:
    # One second measured: `orders` answers of 10 ms each.
    return Step(
        replicas_label(processes),
        clients,
        1.0,
        latencies_s=[0.01] * orders,
        cpu={"kitchen": kitchen_cores, "postgres": 0.5, "other": 0.1},
    )


# Alternated runs (BENCH_KITCHEN_REPLICAS=1,2,1,2): each count's repeats are averaged.
STEPS = [step(1, 16, 400, 0.8), step(2, 16, 500, 1.2), step(1, 16, 420, 0.8), step(2, 16, 560, 1.2)]


def test_each_concurrency_compares_the_mean_of_the_most_processes_with_one() -> None:
    assert replica_pairs(STEPS) == [(16, 410.0, 530.0, 2)]
    assert replica_pairs([s for s in STEPS if s.label == replicas_label(2)]) == []  # nothing to compare with


def test_the_aim_is_judged_on_the_ratio() -> None:
    rows = aims(Results(sections={"replicas": STEPS}))
    assert "| 2 kitchen processes ≥ 1.3× one's orders/s, 16 clients | 530.0 vs 410.0 = 1.29× | no |" in rows


def test_the_section_has_the_steps_and_the_cpu_per_order() -> None:
    text = "\n".join(replicas_section(STEPS, "invariants hold"))
    assert text.startswith("## Replicas: 1 vs 2 kitchen processes")
    assert "| (a) 2 kitchen processes | 16 | 560.0 |" in text
    # 0.8 cores for 410 orders/s, 1.2 cores for 530: the kitchen's CPU per order, both processes together.
    assert "| 16 | 1 | 410.0 | 1.00× | 1.95 ms | 0.50 |" in text
    assert "| 16 | 2 | 530.0 | 1.29× | 2.27 ms | 0.50 |" in text
    assert "Checked afterwards: invariants hold." in text


def test_the_section_says_how_every_process_held_the_dishs_rows_together() -> None:
    # Two processes' totals added up: 200 transactions held the rows 0.6 s and placed 1,000 orders.
    both = holds.Holds(0.2, 100, 600, 100) + holds.Holds(0.4, 100, 400, 100)
    text = "\n".join(replicas_section(STEPS, "invariants hold", {2: {16: both}, 1: {16: holds.Holds(0.0, 0)}}))
    assert "The dish's pantry rows with 2 kitchen processes" in text
    assert "3.00 ms for 5.0 orders at 16 clients (about 1,667 orders/s)" in text
    assert "with 1 kitchen process," not in text  # it held nothing: no sentence


def test_the_option_lists_process_counts_and_can_be_emptied() -> None:
    assert parse([]).kitchen_replicas == (1, 2)
    assert parse(["--kitchen-replicas", "1,2,1,2"]).kitchen_replicas == (1, 2, 1, 2)
    assert parse(["--kitchen-replicas", ""]).kitchen_replicas == ()
