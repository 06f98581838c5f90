"""The gateway's own errors, as problem+json (HTTP) or a refused handshake (WebSocket)."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from brigade_common.problems import Problem, problem_response


def no_route(path: str) -> Problem:
    return Problem(f"no component serves {path}", status=404, type="no-route", title="Not Found")


def not_running(component: str) -> Problem:
    return Problem(
        f"{component} is not running here (the gateway has no upstream for it)",
        status=503,
        type="upstream-not-running",
        title="Service Unavailable",
    )


def unreachable(component: str, reason: str) -> Problem:
    return Problem(f"{component} did not answer: {reason}", status=502, type="bad-gateway", title="Bad Gateway")


def restarting(component: str) -> Problem:
    """Nothing listens where the component should: it is (re)starting. Worth retrying, unlike a 502."""
    return Problem(
        f"{component} is not accepting connections (restarting?); try again shortly",
        status=503,
        type="upstream-unavailable",
        title="Service Unavailable",
        headers={"Retry-After": "2"},
    )


def timed_out(component: str) -> Problem:
    return Problem(f"{component} did not answer in time", status=504, type="gateway-timeout", title="Gateway Timeout")


async def send_problem(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with `problem`: a problem+json response, or for a WebSocket a denied handshake."""
    request_id = scope.get("state", {}).get("request_id")
    response = problem_response(problem, instance=scope["path"], request_id=request_id)
    if scope["type"] == "websocket":
        websocket = WebSocket(scope, receive, send)
        if "websocket.http.response" in scope.get("extensions", {}):
            await websocket.send_denial_response(response)
        else:
            # 1014 is "bad gateway"; before accept the server turns any close into a 403.
            await websocket.close(code=1014 if problem.status >= 500 else 1008, reason=problem.title)
        return
    await response(scope, receive, send)
