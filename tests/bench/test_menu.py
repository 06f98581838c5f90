"""The menu benchmark's arithmetic: the cache's counters read from /metrics, the hit rate between two
scrapes of two kitchens, the propagation figures, and the section they make."""

from __future__ import annotations

import math

from tests.bench.machine import Machine
from tests.bench.menu_report import pooled, render, speedups
from tests.bench.menu_results import Propagation, Results, cache_reads, hit_rate, reads_between
from tests.bench.stats import Step

METRICS = """# HELP kitchen_menu_cache_reads_total Menu reads through the cache
# TYPE kitchen_menu_cache_reads_total counter
kitchen_menu_cache_reads_total{answered_by="local"} 1200.0
kitchen_menu_cache_reads_total{answered_by="bucket"} 30.0
kitchen_menu_cache_reads_total{answered_by="source"} 70.0
kitchen_menu_cache_reads_total{answered_by="degraded"} 0.0
# TYPE kitchen_menu_cache_reads_created gauge
kitchen_menu_cache_reads_created{answered_by="local"} 1.7648e+09
brigade_http_requests_total{service="kitchen",method="GET",route="/metrics",status="200"} 3.0
"""
MACHINE = Machine("2", "7.8 GiB", "cpu", "Linux", "CPython 3.12", "17", "2.11", "2026-12-01 17:00 UTC")


def test_the_counters_come_from_the_kitchens_metrics_page() -> None:
    assert cache_reads(METRICS) == {"local": 1200, "bucket": 30, "source": 70, "degraded": 0}


def test_a_kitchen_without_the_counter_reads_as_zero() -> None:
    assert cache_reads("brigade_http_requests_total 1.0\n") == dict.fromkeys(
        ("local", "bucket", "source", "degraded"), 0
    )


def test_the_hit_rate_is_over_both_kitchens_between_the_scrapes() -> None:
    before = [{"local": 100, "bucket": 0, "source": 10, "degraded": 0}, {"local": 0, "bucket": 0, "source": 0}]
    after = [
        {"local": 190, "bucket": 5, "source": 15, "degraded": 0},
        {"local": 80, "bucket": 5, "source": 5, "degraded": 10},
    ]
    reads = reads_between(before, after)
    assert reads == {"local": 170, "bucket": 10, "source": 10, "degraded": 10}
    # Degraded reads went to PostgreSQL: they count against the rate, as misses do.
    assert hit_rate(reads) == 180 / 200
    assert math.isnan(hit_rate({}))


def test_propagation_is_timed_to_the_last_kitchen_to_see_the_change() -> None:
    p = Propagation()
    p.add(sent=10.0, answered=10.008, seen=[10.009, 10.020])
    p.add(sent=20.0, answered=20.010, seen=[20.030, 20.012])
    assert [round(x * 1000) for x in p.from_send_s] == [20, 30]
    assert [round(x * 1000) for x in p.from_answer_s] == [12, 20]
    assert round(p.ms(p.write_s, 99)) == 10


def step(label: str, c: int, latency_s: float, n: int) -> Step:
    return Step(label, c, 1.0, [latency_s] * n)


def test_the_rounds_of_a_step_are_pooled() -> None:
    steps = [
        ("on", step("/api/kitchen/dishes/today", 16, 0.004, 2000)),
        ("off", step("/api/kitchen/dishes/today", 16, 0.016, 500)),
        ("on", step("/api/kitchen/dishes/today", 16, 0.002, 4000)),
        ("off", step("/api/kitchen/dishes/today", 16, 0.010, 1500)),
    ]
    on = pooled(steps)[("on", "/api/kitchen/dishes/today", 16)]
    assert (on.ok, on.window_s, on.rate) == (6000, 2.0, 3000.0)
    # p50 off 10 ms over on 2 ms (the median of the pooled latencies); 3000/s over 1000/s.
    assert speedups(steps) == {("/api/kitchen/dishes/today", 16): (5.0, 3.0)}


def test_the_section_says_how_much_faster_the_cached_read_is() -> None:
    res = Results(machine=MACHINE, load=(3.5, 4.0))
    res.steps = [
        ("on", step("/api/kitchen/dishes/{id}", 1, 0.0002, 4000)),
        ("off", step("/api/kitchen/dishes/{id}", 1, 0.0008, 1000)),
    ]
    res.mixed = step("mixed", 16, 0.005, 1000)
    res.reads = {"local": 90, "bucket": 5, "source": 5, "degraded": 0}
    res.propagation.add(sent=1.0, answered=1.008, seen=[1.009, 1.015])
    assert speedups(res.steps) == {("/api/kitchen/dishes/{id}", 1): (4.0, 4.0)}
    text = render(res, "uv run --frozen python -m tests.bench.menu")
    assert "| `/api/kitchen/dishes/{id}` | 1 | 4,000 | 1,000 | 0.20 | 0.80 | 0.20 | 0.80 | 4.0 | 4.0 |" in text
    assert "**95.0%** of the cache's reads" in text
    assert "load average 3.5 at the start, 4.0 at the end" in text
    assert "| PATCH sent (before the commit) | new version on every kitchen | 15.0 |" in text
    assert "The cached read is faster at every step of this run: its p50 is 4.0–4.0× lower" in text
    assert "95.0% of the cache's reads were answered without PostgreSQL" in text
    assert "within 15.0 ms of its PATCH's send at p99" in text
