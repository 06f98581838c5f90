"""Wait until every service answers `GET /readyz` with 200."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import httpx

from brigade_devstack.console import Console


async def _is_ready(client: httpx.AsyncClient, url: str) -> bool:
    try:
        response = await client.get(url)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def wait_ready(
    urls: Mapping[str, str],
    console: Console,
    *,
    timeout: float,
    interval: float = 0.2,
    report_every: float = 5.0,
    describe: Callable[[str], str] = str,
) -> set[str]:
    """Poll each `name → readyz URL` until all answer 200; return the names still not ready at `timeout`.

    Every `report_every` seconds it prints who is still being waited for (`describe` adds detail,
    such as a restart count).
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    deadline = start + timeout
    next_report = start + report_every
    pending = dict(urls)
    async with httpx.AsyncClient(timeout=min(2.0, max(interval * 5, 0.5))) as client:
        while pending:
            names = list(pending)
            results = await asyncio.gather(*(_is_ready(client, pending[n]) for n in names))
            for name, ready in zip(names, results, strict=True):
                if ready:
                    del pending[name]
                    console.info(f"{name} is ready ({loop.time() - start:.1f}s)", about=name)
            now = loop.time()
            if not pending or now >= deadline:
                break
            if now >= next_report:
                waiting = ", ".join(describe(n) for n in sorted(pending))
                console.info(f"still waiting for /readyz of: {waiting} ({now - start:.0f}s)")
                next_report = now + report_every
            await asyncio.sleep(interval)
    return set(pending)
