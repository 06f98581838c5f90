"""Request-reply between services over NATS (`nats.micro` on the serving side).

`call` sends a pydantic request and returns the parsed pydantic reply, mapping the three ways a call
fails (nobody listening, too slow, the service answered with an error) to typed exceptions.
`endpoint` adapts a typed async function into a `nats.micro` handler that validates its input.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats.errors
import pydantic
from nats.aio.client import Client as NATS
from nats.micro.request import Request

from brigade_common.envelope import CORRELATION_ID
from brigade_common.logging import get_logger

log = get_logger(__name__)

Req = TypeVar("Req", bound=pydantic.BaseModel)
Rep = TypeVar("Rep", bound=pydantic.BaseModel)

ERROR_CODE = "Nats-Service-Error-Code"
ERROR = "Nats-Service-Error"


class RpcError(Exception):
    """A request-reply call failed."""


class RpcUnavailable(RpcError):
    """No service answers on the subject."""


class RpcTimeout(RpcError):
    """The service did not answer in time."""


class RpcFailed(RpcError):
    """The service answered with an error."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


async def call(
    nc: NATS,
    subject: str,
    request: pydantic.BaseModel,
    reply_model: type[Rep],
    *,
    timeout: float,
    correlation_id: str | None = None,
) -> Rep:
    """Send `request` to `subject` and parse the reply as `reply_model`."""
    headers = {CORRELATION_ID: correlation_id} if correlation_id else None
    try:
        msg = await nc.request(subject, request.model_dump_json().encode(), timeout=timeout, headers=headers)
    except nats.errors.NoRespondersError as exc:
        raise RpcUnavailable(f"no responders on {subject}") from exc
    except (TimeoutError, nats.errors.TimeoutError) as exc:
        raise RpcTimeout(f"{subject} did not answer within {timeout}s") from exc
    h = msg.headers or {}
    if ERROR_CODE in h:
        raise RpcFailed(h[ERROR_CODE], h.get(ERROR, ""))
    try:
        return reply_model.model_validate_json(msg.data)
    except pydantic.ValidationError as exc:
        raise RpcFailed("502", f"malformed reply from {subject}: {exc}") from exc


def endpoint(
    request_model: type[Req], fn: Callable[[Req], Awaitable[pydantic.BaseModel]]
) -> Callable[[Request], Awaitable[None]]:
    """A `nats.micro` handler: parse → call `fn` → reply JSON; bad input answers error 400."""

    async def handler(req: Request) -> None:
        try:
            parsed = request_model.model_validate_json(req.data)
        except pydantic.ValidationError as exc:
            await req.respond_error("400", f"invalid request: {exc.errors(include_url=False)}")
            return
        try:
            reply = await fn(parsed)
        except RpcFailed as exc:
            await req.respond_error(exc.code, exc.description)
            return
        except Exception as exc:
            log.exception("rpc_handler_failed", error=repr(exc))
            await req.respond_error("500", "internal error")
            return
        await req.respond(reply.model_dump_json().encode())

    return handler
