"""The footprint benchmark's arithmetic: /proc smaps_rollup read as RSS/PSS/USS, the whole stack's
sum, the aims, and where its section goes in docs/benchmarks.md."""

from __future__ import annotations

from tests.bench.footprint import rollup
from tests.bench.footprint_report import Memory, Round, aims, reading, table, total, with_footprint

SMAPS_ROLLUP = """55d0c0a00000-7ffd5a1f0000 ---p 00000000 00:00 0                          [rollup]
Rss:               78312 kB
Pss:               53119 kB
Pss_Anon:          51532 kB
Shared_Clean:      26752 kB
Private_Clean:        20 kB
Private_Dirty:     51540 kB
Anonymous:         51532 kB
"""


def test_the_rollup_gives_rss_pss_and_the_private_pages_as_uss() -> None:
    assert rollup(SMAPS_ROLLUP) == Memory(rss=78312, pss=53119, uss=51560)


def test_the_stack_is_the_sum_of_its_processes() -> None:
    assert total({"a": Memory(10, 5, 4), "b": Memory(1, 1, 1)}) == Memory(11, 6, 5)


def rounds() -> list[Round]:
    mib = 1024
    before = Round(
        "before",
        idle={"kitchen": Memory(100 * mib, 80 * mib, 78 * mib), "postgres": Memory(300 * mib, 70 * mib, 40 * mib)},
    )
    after = Round(
        "after",
        idle={"kitchen": Memory(55 * mib, 40 * mib, 38 * mib), "postgres": Memory(300 * mib, 70 * mib, 40 * mib)},
    )
    for r in (before, after):
        r.loaded = dict(r.idle)
        r.loaded_total = total(r.idle)
        r.settled = dict(r.idle)
    return [before, after]


def test_the_aims_name_the_services_over_60_mib_and_leave_postgres_out() -> None:
    before, after = aims(rounds())
    assert "services under 60 MiB at idle: 0 of 1 as RSS (over: kitchen 100 MiB), 0 of 1 as PSS." in before
    assert "services under 60 MiB at idle: 1 of 1 as RSS, 1 of 1 as PSS." in after
    assert "holds 110 MiB as PSS (under 800), 125 MiB as RSS with PostgreSQL as PSS (under), 355 MiB" in after


def test_the_table_has_a_row_per_process_services_first_and_the_stack_last() -> None:
    lines = table(rounds())
    assert [line.split("|")[1].strip() for line in lines[2:]] == ["kitchen", "postgres", "**whole stack**"]
    assert lines[2].startswith("| kitchen | 100 | 55 | 80 | 40 |")


def test_the_section_goes_before_the_loads_and_is_replaced_in_place() -> None:
    page = "# Benchmarks\n\nintro\n\n<!-- load:begin -->\nload\n<!-- load:end -->\n"
    once = with_footprint(page, "## Footprint\nfirst")
    assert once.index("<!-- footprint:begin -->") < once.index("<!-- load:begin -->")
    twice = with_footprint(once, "## Footprint\nsecond")
    assert "first" not in twice and twice.count("<!-- footprint:begin -->") == 1
    assert twice.index("second") < twice.index("<!-- load:begin -->")
    assert with_footprint("# Benchmarks\n", "x").endswith("<!-- footprint:begin -->\nx\n<!-- footprint:end -->\n")


def test_the_reading_says_what_auth_kept_after_the_load_in_each_variant() -> None:
    mib = 1024
    before, after = rounds()
    for r, kept in ((before, 58), (after, 0)):
        r.idle["auth"] = Memory(80 * mib, 54 * mib, 52 * mib)
        r.loaded["auth"] = Memory(118 * mib, 93 * mib, 91 * mib)
        r.settled = {**r.idle, "auth": Memory((80 + kept) * mib, 54 * mib, 52 * mib)}
        r.backends = {"idle": 13, "load": 41, "after": 40}
    (text, _) = reading([before, after])
    assert "Auth grew 38 MiB under the load" in text
    assert "still held 58 MiB more than at idle before and 0 MiB after" in text
    assert "13 processes at idle" in text and "41 at the peak of the load and 40 after it" in text
