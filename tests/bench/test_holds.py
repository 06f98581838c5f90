"""The pantry-hold figures of `make bench`: read from a kitchen's /metrics, taken between two reads,
and the ceiling they put on one dish's orders per second."""

from __future__ import annotations

import pytest

from tests.bench import holds


def page(holds_count: int, seconds: float, placing: int, orders: int) -> str:
    """A kitchen's /metrics with those totals: transactions that held rows and for how long, placing
    transactions and the orders they placed."""
    return f"""# HELP kitchen_pantry_hold_seconds How long …
# TYPE kitchen_pantry_hold_seconds histogram
kitchen_pantry_hold_seconds_bucket{{le="0.001"}} 2.0
kitchen_pantry_hold_seconds_bucket{{le="+Inf"}} {holds_count}.0
kitchen_pantry_hold_seconds_count {holds_count}.0
kitchen_pantry_hold_seconds_sum {seconds}
# HELP kitchen_pantry_hold_seconds_created When …
kitchen_pantry_hold_seconds_created 1.7e+09
kitchen_orders_placed_together_count {placing}.0
kitchen_orders_placed_together_sum {orders}.0
"""


def test_a_step_holds_what_the_kitchen_counted_between_two_reads() -> None:
    step = holds.parse(page(1400, 2.8, 1400, 1400)) - holds.parse(page(400, 0.8, 400, 400))
    assert (step.holds, step.orders, step.placing) == (1000, 1000, 1000)
    assert step.seconds == pytest.approx(2.0)
    assert step.mean_ms == pytest.approx(2.0)
    assert step.ceiling == pytest.approx(500.0)  # one dish, rows held 2 ms an order: about 500 orders/s


def test_orders_placed_together_raise_the_ceiling_by_how_many_a_transaction_placed() -> None:
    step = holds.parse(page(500, 1.1, 500, 1000)) - holds.parse(page(400, 0.8, 400, 400))
    assert step.per_transaction == pytest.approx(6.0)  # 100 transactions placed 600 orders
    assert step.mean_ms == pytest.approx(3.0)
    assert step.ceiling == pytest.approx(2000.0)  # 6 orders every 3 ms
    assert "3.00 ms for 6.0 orders at 16 clients (about 2,000 orders/s)" in holds.line({16: step})


def test_a_kitchen_that_held_nothing_reads_as_zero_and_is_left_out_of_the_sentence() -> None:
    nothing = holds.parse("kitchen_menu_cache_reads_total 3.0\n")
    assert nothing == holds.Holds(0.0, 0)
    assert nothing.ceiling == 0.0
    sentence = holds.line({1: holds.Holds(0.5, 1000, 1000, 1000), 16: holds.Holds(2.0, 1000, 1000, 1000), 64: nothing})
    assert "0.50 ms for 1.0 order at 1 client (about 2,000 orders/s), 2.00 ms for 1.0 order at 16 clients" in sentence
    assert "64 clients" not in sentence
