"""The menu bench's requests: closed-loop reads, the mixed load with staff PATCHes, the scrape of the
kitchens' cache counters and the timing of a change reaching every kitchen (tests/bench/menu.py)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Mapping, Sequence

from tests.bench.httpclient import HttpConnection, get_request, json_request, metrics_page
from tests.bench.menu_results import DISHES, PATCH_EVERY, TODAY, Propagation, cache_reads


def _patch(port: int, path: str, token: str, version: int, body: Mapping[str, object]) -> bytes:
    headers = {
        "Authorization": f"Bearer {token}",
        "If-Match": f'"{version}"',
        "Content-Type": "application/merge-patch+json",
    }
    return json_request("PATCH", port, path, body, headers)


class ReadLoad:
    """The `Operation` for `closed_loop`: worker i GETs `paths` in turn on its own connection."""

    def __init__(self, port: int, paths: Sequence[str], concurrency: int) -> None:
        self.requests = [get_request(port, p) for p in paths]
        self.connections = [HttpConnection("127.0.0.1", port) for _ in range(concurrency)]
        self._n = 0

    async def __call__(self, i: int) -> tuple[bool, str]:
        self._n += 1
        status, _ = await self.connections[i].request(self.requests[self._n % len(self.requests)])
        return status == 200, str(status)

    def close(self) -> None:
        for c in self.connections:
            c.close()


class MixedLoad:
    """Workers spread over the kitchens: mostly today's menu and a dish, one in PATCH_EVERY a staff
    change of a dish's price (its version read first; a 412 from a concurrent change counts as done)."""

    def __init__(self, ports: Sequence[int], dish_ids: Sequence[str], token: str, concurrency: int) -> None:
        self.ports = [ports[i % len(ports)] for i in range(concurrency)]
        self.dish_ids = dish_ids
        self.token = token
        self.connections = [HttpConnection("127.0.0.1", p) for p in self.ports]
        self.rng = random.Random(7)

    async def __call__(self, i: int) -> tuple[bool, str]:
        conn, port = self.connections[i], self.ports[i]
        n = self.rng.randrange(PATCH_EVERY * 2)
        if n == 0:
            dish = self.rng.choice(self.dish_ids)
            status, body = await conn.request(get_request(port, f"{DISHES}/{dish}"))
            if status != 200:
                return False, str(status)
            got = json.loads(body)
            change = {"price_cents": 500 + self.rng.randrange(1000)}
            status, _ = await conn.request(_patch(port, f"{DISHES}/{dish}", self.token, got["version"], change))
            return status in (200, 412), f"PATCH {status}"
        path = TODAY if n % 2 else f"{DISHES}/{self.rng.choice(self.dish_ids)}"
        status, _ = await conn.request(get_request(port, path))
        return status == 200, str(status)

    def close(self) -> None:
        for c in self.connections:
            c.close()


async def fetch_json(conn: HttpConnection, port: int, path: str) -> object:
    status, body = await conn.request(get_request(port, path))
    assert status == 200, f"GET {path}: {status} {body[:300]!r}"
    return json.loads(body)


async def _version(conn: HttpConnection, port: int, dish: str) -> int:
    got = await fetch_json(conn, port, f"{DISHES}/{dish}")
    assert isinstance(got, dict)
    return int(got["version"])


async def scrape(ports: Sequence[int]) -> list[dict[str, int]]:
    return [cache_reads(await metrics_page(port)) for port in ports]


async def propagate(ports: Sequence[int], dish: str, token: str, changes: int, into: Propagation) -> None:
    """PATCH `dish` through the first kitchen `changes` times; time until every kitchen answers the
    new version. Both have the dish in their own copy beforehand (read just before the change)."""
    conns = [HttpConnection("127.0.0.1", p) for p in ports]
    try:
        for n in range(changes):
            versions = [await _version(c, p, dish) for c, p in zip(conns, ports, strict=True)]
            for c, p in zip(conns, ports, strict=True):  # a second read: answered from the copy
                await fetch_json(c, p, f"{DISHES}/{dish}")
            assert len(set(versions)) == 1, f"kitchens disagree before change {n}: {versions}"
            sent = time.perf_counter()
            status, body = await conns[0].request(
                _patch(ports[0], f"{DISHES}/{dish}", token, versions[0], {"price_cents": 1000 + n})
            )
            answered = time.perf_counter()
            assert status == 200, f"PATCH: {status} {body[:300]!r}"
            new = int(json.loads(body)["version"])

            async def seen(conn: HttpConnection, port: int, new: int = new) -> float:
                limit = time.perf_counter() + 10
                while time.perf_counter() < limit:
                    if await _version(conn, port, dish) >= new:
                        return time.perf_counter()
                raise TimeoutError

            try:
                times = await asyncio.gather(*(seen(c, p) for c, p in zip(conns, ports, strict=True)))
            except TimeoutError:
                into.missed += 1
                continue
            into.add(sent, answered, times)
    finally:
        for c in conns:
            c.close()


# ----------------------------------------------------------------------------------------- run
