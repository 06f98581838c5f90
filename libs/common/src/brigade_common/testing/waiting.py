"""Waiting on conditions in tests: poll until something holds, never sleep a fixed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 20.0, what: str = "condition") -> T: ...


@overload
async def eventually(check: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T: ...


async def eventually(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll `check` (sync or async) until it returns something truthy, and return that value.

    Fails with an AssertionError naming `what` and the last value once `timeout` seconds have passed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:g}s (last: {value!r})")
        await asyncio.sleep(0.02)


def wait_until(check: Callable[[], T], timeout: float = 20.0, what: str = "condition", interval: float = 0.02) -> T:
    """`eventually` for synchronous code: poll `check` until it returns something truthy, and return
    that value; an AssertionError naming `what` and the last value once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:g}s (last: {value!r})")
        time.sleep(interval)
