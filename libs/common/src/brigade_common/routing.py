"""Declared routes become Starlette routes: what a declaration documents is what the route enforces.

`bind` turns an endpoint `async def f(request, *, body, query, principal, <header params>, <path
params>, context)` into a Starlette endpoint that verifies the caller (when the operation declares
`auth`), reads the declared headers, path parameters, query and body in that order (so a request
without credentials is a 401 before its body is looked at) and passes them as keywords. The endpoint
must take exactly the keywords its declaration implies, checked when it is declared, so the
document and the code cannot drift apart (an endpoint declared for some roles may leave out
`principal` when who the caller is changes nothing).

`routes` gives one Starlette route per path, serving every method declared on it: `OPTIONS` and
undeclared methods get a 405 whose `Allow` lists them all. A WebSocket's path answers a plain HTTP
GET with 426 Upgrade Required (and other methods with 405), not with a 404 that says it is not there.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from brigade_common.auth.requests import require_principal
from brigade_common.http_context import message_context
from brigade_common.inputs import JSON, Header, RawBody, parse_json, parse_query, path_parameters
from brigade_common.problems import NotFound, Problem

Endpoint = Callable[..., Awaitable[Response]]


@dataclass(frozen=True)
class Operation:
    """One documented route (an HTTP method on a path, or a WebSocket)."""

    method: str
    path: str
    operation_id: str
    body: Any = None
    body_media_type: str = JSON
    query: type[BaseModel] | None = None
    path_model: type[BaseModel] | None = None
    headers: tuple[Header, ...] = ()
    responses: Mapping[int, Any] = field(default_factory=dict)
    auth: bool = False
    roles: frozenset[str] = frozenset()
    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    websocket: bool = False

    def keywords(self, path_names: Iterable[str]) -> set[str]:
        """The keywords the endpoint is called with."""
        names = set(path_names)
        if self.body is not None:
            names.add("body")
        if self.query is not None:
            names.add("query")
        if self.auth:
            names.add("principal")
        names |= {h.param for h in self.headers}
        return names


@dataclass(frozen=True)
class _Wants:
    """What an endpoint takes beyond its declared inputs."""

    context: bool
    principal: bool


def _signature_check(op: Operation, endpoint: Callable[..., Any], path_names: Sequence[str]) -> _Wants:
    """Raise unless `endpoint` takes the request and exactly the declared keywords (plus, if it
    wants it, `context`; and `principal` may be left out by an endpoint that needs only the caller's
    roles checked, which its declaration does)."""
    params = list(inspect.signature(endpoint).parameters)
    if not params:
        raise TypeError(f"{op.operation_id}: an endpoint takes the request first")
    taken = set(params[1:])
    expected = op.keywords(path_names)
    optional = {"context"} | ({"principal"} if op.roles else set())
    if taken - optional != expected - optional:
        raise TypeError(
            f"{op.operation_id}: the declaration gives {sorted(expected)}, the endpoint takes {sorted(taken)}"
        )
    return _Wants(context="context" in taken, principal="principal" in taken)


def _path_values(op: Operation, request: Request) -> dict[str, Any]:
    if not request.path_params:
        return {}
    raw = path_parameters(request)
    if op.path_model is None:
        return raw
    try:
        return dict(op.path_model.model_validate(raw))
    except ValidationError:
        # A path that does not match its parameters' schema names nothing.
        raise NotFound(f"nothing at {request.url.path}") from None


def bind(op: Operation, endpoint: Endpoint, path_names: Sequence[str]) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint that parses and enforces what `op` declares, then calls `endpoint`."""
    wants = _signature_check(op, endpoint, path_names)

    async def route(request: Request) -> Response:
        kwargs: dict[str, Any] = {}
        if op.auth:
            principal = await require_principal(request, roles=op.roles)
            if wants.principal:
                kwargs["principal"] = principal
        for header in op.headers:
            kwargs[header.param] = header.read(request)
        kwargs.update(_path_values(op, request))
        if op.query is not None:
            kwargs["query"] = parse_query(request, op.query)
        if isinstance(op.body, RawBody):
            kwargs["body"] = await op.body.read(request)
        elif op.body is not None:
            kwargs["body"] = await parse_json(request, op.body, media_type=op.body_media_type)
        if wants.context:
            kwargs["context"] = message_context(request)
        return await endpoint(request, **kwargs)

    route.__name__ = op.operation_id
    return route


def routes(bound: Sequence[tuple[Operation, Callable[..., Any]]]) -> list[BaseRoute]:
    """One route per path (in the order paths were first declared) serving all its methods."""
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    sockets: list[BaseRoute] = []
    for op, endpoint in bound:
        if op.websocket:
            sockets.append(WebSocketRoute(op.path, endpoint, name=op.operation_id))
            by_path.setdefault(op.path, {})["GET"] = upgrade_required
        else:
            by_path.setdefault(op.path, {})[op.method] = endpoint
    out: list[BaseRoute] = []
    for path, methods in by_path.items():
        out.append(Route(path, _dispatch(dict(methods)), methods=sorted(methods)))
    return [*out, *sockets]


async def upgrade_required(request: Request) -> Response:
    """A WebSocket's path asked for over plain HTTP."""
    raise Problem(
        "this path is a WebSocket: connect with an Upgrade: websocket handshake",
        type="upgrade-required",
        title="Upgrade Required",
        status=426,
        headers={"Upgrade": "websocket", "Connection": "Upgrade"},
    )


def _dispatch(methods: dict[str, Callable[[Request], Awaitable[Response]]]) -> Callable[[Request], Awaitable[Response]]:
    if "GET" in methods:
        methods.setdefault("HEAD", methods["GET"])
    if len(methods) == 1:
        return next(iter(methods.values()))

    async def dispatch(request: Request) -> Response:
        return await methods[request.method](request)

    return dispatch
