"""A stand-in for a Brigade service behind the gateway: echoes requests, streams, and a WebSocket echo."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


@dataclass
class Gates:
    """Lets a test step through a streamed exchange; proves nothing was buffered on the way."""

    first_chunk_seen: asyncio.Event = field(default_factory=asyncio.Event)
    release_rest: asyncio.Event = field(default_factory=asyncio.Event)
    upload_started: asyncio.Event = field(default_factory=asyncio.Event)
    client_close: asyncio.Future[tuple[int, str]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def build_upstream(gates: Gates) -> Starlette:
    async def echo(request: Request) -> Response:
        body = await request.body()
        payload = {
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.url.query,
            "headers": [[k, v] for k, v in request.headers.items()],
            "body": body.decode(),
        }
        response = JSONResponse(payload, status_code=201 if request.method == "POST" else 200)
        response.headers["x-upstream"] = "kitchen"
        response.headers["keep-alive"] = "timeout=99"  # hop-by-hop: must not reach the client
        response.raw_headers.append((b"set-cookie", b"a=1; Path=/"))
        response.raw_headers.append((b"set-cookie", b"b=2; Path=/"))
        return response

    async def stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first;"
            await gates.release_rest.wait()
            for i in range(3):
                yield f"chunk-{i};".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    async def upload(request: Request) -> Response:
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.stream():
            if chunk and not gates.upload_started.is_set():
                gates.upload_started.set()
            digest.update(chunk)
            size += len(chunk)
        return JSONResponse({"size": size, "sha256": digest.hexdigest()})

    async def compressed(request: Request) -> Response:
        return Response(gzip.compress(b"hello " * 100), media_type="text/plain", headers={"content-encoding": "gzip"})

    async def redirect(request: Request) -> Response:
        return Response(status_code=307, headers={"location": "/api/kitchen/echo"})

    async def websocket_echo(websocket: WebSocket) -> None:
        offered = websocket.scope.get("subprotocols") or []
        await websocket.accept(subprotocol=offered[0] if offered else None)
        await websocket.send_text(json.dumps({"headers": dict(websocket.headers)}))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    code = message.get("code", 1005)
                    if not gates.client_close.done():
                        gates.client_close.set_result((code, message.get("reason") or ""))
                    return
                if message.get("text") == "close-please":
                    await websocket.close(code=4001, reason="bye")
                    return
                if message.get("text") is not None:
                    await websocket.send_text("echo:" + message["text"])
                else:
                    await websocket.send_bytes(b"echo:" + message["bytes"])
        except WebSocketDisconnect as exc:
            if not gates.client_close.done():
                gates.client_close.set_result((exc.code, exc.reason or ""))

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/api/kitchen/echo", echo, methods=methods),
            Route("/api/kitchen/echo/{rest:path}", echo, methods=methods),
            Route("/api/kitchen/stream", stream),
            Route("/api/kitchen/upload", upload, methods=["POST"]),
            Route("/api/kitchen/gzip", compressed),
            Route("/api/kitchen/redirect", redirect),
            WebSocketRoute("/api/live/ws", websocket_echo),
        ]
    )
