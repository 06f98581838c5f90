"""`make bench`: throughput and latency of `POST /api/kitchen/orders`, with the floors it stands on.

Run as `uv run --frozen python -m tests.bench` (see `python -m tests.bench --help`); it starts its own
PostgreSQL and nats-server on free ports, measures, writes docs/benchmarks.md and stops everything.
"""
