"""A database outage in the middle of `make load`: PostgreSQL killed (SIGKILL) while locust runs, kept
down for a while, started again, and what the customers saw meanwhile.

The figures: how long after PostgreSQL came back the first order was accepted again (a probe of our
own places one every 100 ms once the database is back), how many orders the API accepted that the
kitchen does not have (lost: must be 0), and the answers during the outage by status and type
(locust's failures, grouped by message).
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from brigade_common.devservers import PostgresServer

PROBE_EVERY_S = 0.1


@dataclass(frozen=True)
class OutageFigures:
    at_s: float
    down_s: float
    recovered_s: float  # from PostgreSQL accepting connections again to the first order accepted
    probe_orders: int  # orders our own probe had accepted (they count among the placed ones)


async def database_outage(
    pg: PostgresServer, host: str, headers: Mapping[str, str], *, at_s: float, down_s: float
) -> OutageFigures:
    """Kill PostgreSQL `at_s` seconds from now, start it again `down_s` seconds later, and wait for
    the first order accepted through `host` (the gateway)."""
    # A benchmark's scenario, not a test's wait: the outage happens at this point of the run.
    await asyncio.sleep(at_s)
    assert pg.proc is not None
    print(f"== outage: PostgreSQL killed (SIGKILL) for {down_s:g} s", flush=True)
    pg.proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(pg.proc.wait, 10)
    await asyncio.sleep(down_s)
    await asyncio.to_thread(pg.start)
    back = time.perf_counter()
    accepted = 0
    async with httpx.AsyncClient(base_url=host, timeout=10.0) as client:
        while True:
            r = await client.post(
                "/api/kitchen/orders",
                json={"dish_id": "pan-simple"},
                headers={**headers, "Idempotency-Key": f"outage-probe-{uuid.uuid4()}"},
            )
            if r.status_code in (201, 202):
                accepted += 1
                break
            await asyncio.sleep(PROBE_EVERY_S)
    recovered = time.perf_counter() - back
    print(f"== outage: PostgreSQL back; the first order accepted {recovered:.2f} s later", flush=True)
    return OutageFigures(at_s, down_s, recovered, accepted)


def answers(errors: list[dict[str, object]]) -> dict[str, int]:
    """locust's failures grouped by what the API answered: `503 Dependency Unavailable` …"""
    out: dict[str, int] = {}
    for e in errors:
        text = str(e["error"])
        head = text.split(":", 1)[0] if text[:3].isdigit() else str(e["type"])
        out[head] = out.get(head, 0) + int(str(e["occurrences"]))
    return out


def expected_only(by_answer: Mapping[str, int]) -> bool:
    """Only the answers an outage should give: 503 with a reason to retry (no 500, no 502)."""
    return all(answer.startswith("503") for answer in by_answer)
