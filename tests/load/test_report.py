"""docs/benchmarks.md has two authors: `make bench` rewrites the page and keeps `make load`'s section,
`make load` rewrites only its section."""

from __future__ import annotations

from tests.bench.doc import keep_sections, section, with_section
from tests.bench.machine import Machine
from tests.load.options import parse
from tests.load.report import SECTION, Results, section_body, terminal
from tests.load.runner import Entry, Summary

BENCH_PAGE = "# Benchmarks: `POST /api/kitchen/orders`\n\n## Machine\n\nfigures\n"


def entry(kind: str, name: str, requests: int, failures: int = 0) -> Entry:
    return Entry(kind, name, requests, failures, requests / 10, 5, 20, 40, 50)


def results() -> Results:
    summary = Summary(
        entries=[
            entry("GET", "/api/kitchen/dishes/today", 40),
            entry("POST", "/api/kitchen/orders", 20),
            entry("ORDER", "reserved", 19),
            entry("ORDER", "pending", 1, failures=1),
        ],
        total=entry("", "all requests", 60),
        errors=[{"type": "ORDER", "name": "pending", "error": "still pending after 60s", "occurrences": 1}],
        journeys=20,
        exit_code=1,
        elapsed_s=10.0,
    )
    machine = Machine("2", "4 GiB", "cpu", "Linux", "CPython 3.11", "18", "2.12", "2026-01-01 00:00 UTC")
    return Results(
        parse(["--users", "5", "--duration", "10"]),
        "uv run --frozen python -m tests.load --users 5 --duration 10",
        machine,
        summary,
        "http://127.0.0.1:1234",
        True,
        orders={"reserved": 14, "cancelled": 5, "pending": 1},
        memory_kib={"kitchen": 100 * 1024, "locust": 90 * 1024},
        cpu={"kitchen": 0.5, "locust": 0.2, "other": 0.1},
        check="invariants hold",
        menu_reads={"local": 90, "bucket": 5, "source": 4, "degraded": 1},
    )


def test_the_load_section_names_the_figures_a_reader_needs() -> None:
    body = section_body(results())
    assert "**60 requests in 10 s (6.0/s), failures: 1; 20 orders placed, ended: pending 1, reserved 19.**" in body
    assert "| POST /api/kitchen/orders | 20 | 2.0 | 5 | 20 | 40 | 50 | 0 |" in body
    assert "| ORDER `pending` | 1 | 5 | 20 | 40 | 50 | 1 |" in body
    assert "| kitchen | 100 | 0.50 |" in body
    assert "cancelled 5, pending 1, reserved 14 (total 20)" in body
    assert "still pending after 60s" in body
    assert "the gateway of a stack the run started" in body
    assert "| command | `uv run --frozen python -m tests.load --users 5 --duration 10` |" in body
    assert "orders placed" in terminal(results())
    line = "the kitchen's menu cache answered 95.0% of its reads without PostgreSQL (local 90, bucket 5, source 4"
    assert line in body and line in terminal(results())


def test_make_load_writes_its_section_and_make_bench_keeps_it() -> None:
    body = section_body(results())
    page = with_section(BENCH_PAGE, SECTION, body)
    assert page.startswith(BENCH_PAGE.rstrip())
    assert section(page, SECTION) is not None
    # A second run replaces the section in place.
    again = with_section(page, SECTION, body.replace("60 requests", "61 requests"))
    assert again.count("<!-- load:begin -->") == 1 and "61 requests" in again and again.startswith(BENCH_PAGE.rstrip())
    # `make bench` renders a new page without the section: the old one's is carried over, once.
    rewritten = keep_sections(again, "# Benchmarks: new figures\n")
    assert rewritten.startswith("# Benchmarks: new figures\n")
    assert section(rewritten, SECTION) == section(again, SECTION)
    assert keep_sections(rewritten, rewritten) == rewritten
    assert keep_sections("", BENCH_PAGE) == BENCH_PAGE
