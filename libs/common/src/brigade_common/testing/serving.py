"""A real server for tests: uvicorn on a loopback socket, inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.types import ASGIApp

from brigade_common.testing.waiting import eventually


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Several servers share the test process: leave its signal handlers alone.
        yield


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, **config: object) -> AsyncIterator[str]:
    """Serve `app` (its lifespan included) on a fresh loopback port; yields its base URL.
    `config` goes to `uvicorn.Config` (e.g. `ws_max_queue`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options: dict[str, object] = {"log_config": None, "lifespan": "on", **config}
    server = _Server(uvicorn.Config(app, **options))  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve(sockets=[sock]))

    def started() -> bool:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped while starting")
        return bool(server.started)

    await eventually(started, 10, "the server started")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
