"""WebSocket proxying: the upstream handshake first, then messages and close codes relayed both ways."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from brigade_web.config import Settings
from brigade_web.headers import request_headers, response_headers
from brigade_web.problems import restarting, send_problem, timed_out, unreachable

log = structlog.get_logger("brigade_web.proxy")

NORMAL, GOING_AWAY, BAD_GATEWAY = 1000, 1001, 1014
NO_STATUS, ABNORMAL, TLS_FAILURE = 1005, 1006, 1015  # describe a close; never sent (RFC 6455 §7.4.1)


def sendable(code: int | None, *, abnormal: int) -> int:
    """A close code that may go on the wire: `abnormal` stands in for a connection that just dropped."""
    if code is None or code in (ABNORMAL, TLS_FAILURE):
        return abnormal
    return NORMAL if code == NO_STATUS else code


def upstream_ws_url(base: str, scope: Scope) -> str:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    target = raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    scheme, _, rest = base.rstrip("/").partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{target}"


async def _client_to_upstream(receive: Receive, upstream: ClientConnection) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            await upstream.send(text if text is not None else message.get("bytes") or b"")
        elif message["type"] == "websocket.disconnect":
            code = sendable(message.get("code"), abnormal=GOING_AWAY)
            await upstream.close(code=code, reason=message.get("reason") or "")
            return


async def _upstream_to_client(upstream: ClientConnection, send: Send) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for data in upstream:
            out: Message = {"type": "websocket.send"}
            out["text" if isinstance(data, str) else "bytes"] = data
            await send(out)
    await send(
        {
            "type": "websocket.close",
            "code": sendable(upstream.close_code, abnormal=BAD_GATEWAY),
            "reason": upstream.close_reason or "",
        }
    )


async def _relay(receive: Receive, send: Send, upstream: ClientConnection) -> None:
    tasks = [
        asyncio.create_task(_client_to_upstream(receive, upstream)),
        asyncio.create_task(_upstream_to_client(upstream, send)),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if not task.cancelled() and (exc := task.exception()) and not isinstance(exc, ConnectionClosed | OSError):
            raise exc


async def _deny_like_upstream(exc: InvalidStatus, scope: Scope, receive: Receive, send: Send) -> bool:
    """Pass the upstream's refusal (401, 403, 404…) on unchanged, when the server lets us answer HTTP."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        return False
    upstream = exc.response
    response = Response(upstream.body or b"", status_code=upstream.status_code)
    response.raw_headers = response_headers([(k.lower(), v) for k, v in upstream.headers.raw_items()])
    await WebSocket(scope, receive, send).send_denial_response(response)
    return True


async def proxy_websocket(
    settings: Settings, component: str, base: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """Open the upstream WebSocket with the client's headers and subprotocols, then relay until either closes."""
    offered = [Subprotocol(p) for p in scope.get("subprotocols", [])]
    try:
        upstream = await connect(
            upstream_ws_url(base, scope),
            additional_headers=request_headers(scope, websocket=True),
            subprotocols=offered or None,
            user_agent_header=None,  # the client's own User-Agent is among the forwarded headers
            proxy=None,
            open_timeout=settings.upstream_connect_timeout_s,
            max_size=settings.websocket_max_message_bytes,
            compression=None,
        )
    except InvalidStatus as exc:
        if not await _deny_like_upstream(exc, scope, receive, send):
            await send_problem(
                unreachable(component, f"refused with HTTP {exc.response.status_code}"), scope, receive, send
            )
        return
    except TimeoutError:
        await send_problem(timed_out(component), scope, receive, send)
        return
    except ConnectionRefusedError as exc:
        log.warning("upstream_restarting", component=component, url=base, error=str(exc) or type(exc).__name__)
        await send_problem(restarting(component), scope, receive, send)
        return
    except (OSError, InvalidHandshake) as exc:
        log.warning("upstream_unreachable", component=component, url=base, error=str(exc) or type(exc).__name__)
        await send_problem(unreachable(component, type(exc).__name__), scope, receive, send)
        return
    async with upstream:
        await WebSocket(scope, receive, send).accept(subprotocol=upstream.subprotocol)
        await _relay(receive, send, upstream)
