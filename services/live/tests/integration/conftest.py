from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest

from brigade_common.testing.inprocess import TestKeys
from services.live.tests.integration.harness import LiveServer, live_server

Start = Callable[..., AbstractAsyncContextManager[LiveServer]]


@pytest.fixture
def keys() -> TestKeys:
    return TestKeys()


@pytest.fixture
async def live(nats_url: str, keys: TestKeys) -> AsyncIterator[LiveServer]:
    """The live app served on a loopback port (real nats-server, streams created, no events yet)."""
    async with live_server(nats_url, keys) as server:
        yield server
