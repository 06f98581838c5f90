"""The pantry-hold figures of `make bench`: read from a kitchen's /metrics, taken between two reads,
and the ceiling they put on one dish's orders per second."""

from __future__ import annotations

import pytest

from tests.bench import holds

PAGE = """# HELP kitchen_pantry_hold_seconds How long …
# TYPE kitchen_pantry_hold_seconds histogram
kitchen_pantry_hold_seconds_bucket{le="0.001"} 2.0
kitchen_pantry_hold_seconds_bucket{le="+Inf"} 400.0
kitchen_pantry_hold_seconds_count 400.0
kitchen_pantry_hold_seconds_sum 0.8
# HELP kitchen_pantry_hold_seconds_created When …
kitchen_pantry_hold_seconds_created 1.7e+09
"""


def test_a_step_holds_what_the_kitchen_counted_between_two_reads() -> None:
    before = holds.parse(PAGE)
    after = holds.parse(PAGE.replace("_count 400.0", "_count 1400.0").replace("_sum 0.8", "_sum 2.8"))
    step = after - before
    assert step.orders == 1000
    assert step.seconds == pytest.approx(2.0)
    assert step.mean_ms == pytest.approx(2.0)
    assert step.ceiling == pytest.approx(500.0)  # one dish, rows held 2 ms an order: about 500 orders/s


def test_a_kitchen_that_held_nothing_reads_as_zero_and_is_left_out_of_the_sentence() -> None:
    nothing = holds.parse("kitchen_menu_cache_reads_total 3.0\n")
    assert nothing == holds.Holds(0.0, 0)
    assert nothing.ceiling == 0.0
    sentence = holds.line({1: holds.Holds(0.5, 1000), 16: holds.Holds(2.0, 1000), 64: nothing})
    assert "0.50 ms at 1 client (about 2,000 orders/s), 2.00 ms at 16 clients (about 500 orders/s)." in sentence
    assert "64 clients" not in sentence
