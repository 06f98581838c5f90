"""Routes declared with their inputs and outputs, and the OpenAPI 3.1 document built from them.

    api = OpenAPI(title="Brigade kitchen", version="1.0.0")

    @api.route("POST", "/api/kitchen/orders", body=PlaceOrderBody, auth=True, headers=[IDEMPOTENCY_KEY],
               responses={201: OrderOut, 202: OrderOut, 409: Conflict}, summary="Place an order")
    async def place_order(request: Request, *, body: PlaceOrderBody, principal: Principal,
                          idempotency_key: str | None) -> Response: ...

    app = create_app(service="kitchen", openapi=api)

A declaration is also what the route enforces (brigade_common.routing): the body, query, headers,
path parameters and the caller are parsed and checked before the endpoint runs, and handed to it.

Schemas come from pydantic in one generation pass (so names never collide) with their `$defs` placed
under `components/schemas`. Response values may be a model, any type pydantic can describe
(`list[OrderOut]`), `None` (no body) or a `Problem` class (documented as problem+json).
"""

from __future__ import annotations

import http
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.websockets import WebSocket

from brigade_common.inputs import JSON, Header, RawBody
from brigade_common.problems import PROBLEM_MEDIA_TYPE, Problem, ProblemDetails
from brigade_common.routing import Endpoint, Operation, bind, routes

W = TypeVar("W", bound=Callable[[WebSocket], Awaitable[None]])

REF_TEMPLATE = "#/components/schemas/{model}"
BEARER_SCHEME = "bearerAuth"
_PATH_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?}")
_CONVERTOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "path": {"type": "string"},
    "int": {"type": "integer", "minimum": 0},
    "float": {"type": "number", "minimum": 0},
    "uuid": {"type": "string", "format": "uuid"},
}
# What parsing and checking the declared inputs can answer besides the declared responses.
_BODY_PROBLEMS = (400, 413, 415, 422)
_QUERY_PROBLEMS = (422,)
_HEADER_PROBLEMS = (400,)
_AUTH_PROBLEMS = (401,)
_ROLE_PROBLEMS = (403,)
_PATH_PROBLEMS = (404, 422)


def _is_problem(value: Any) -> bool:
    return isinstance(value, type) and (issubclass(value, Problem) or value is ProblemDetails)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def openapi_path(path: str) -> str:
    """A Starlette path template in OpenAPI form: `/orders/{id:int}` → `/orders/{id}`."""
    return _PATH_PARAM.sub(lambda m: "{" + m[1] + "}", path)


def path_parameters(path: str) -> list[dict[str, Any]]:
    """OpenAPI parameter objects for the `{name}` / `{name:convertor}` segments of a path template."""
    return [
        {
            "name": m[1],
            "in": "path",
            "required": True,
            "schema": dict(_CONVERTOR_SCHEMAS.get(m[2] or "str", {"type": "string"})),
        }
        for m in _PATH_PARAM.finditer(path)
    ]


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                found.add(ref.rsplit("/", 1)[1])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _reachable(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    keep: set[str] = set()
    todo = _refs(paths)
    while todo:
        name = todo.pop()
        if name in keep or name not in schemas:
            continue
        keep.add(name)
        todo |= _refs(schemas[name])
    return {name: schemas[name] for name in sorted(keep)}


class OpenAPI:
    """Collects routes with their request/response models and renders the OpenAPI 3.1 document."""

    def __init__(
        self, *, title: str, version: str, description: str | None = None, servers: Sequence[str] = ()
    ) -> None:
        self.title = title
        self.version = version
        self.description = description
        self.servers = list(servers)
        self.operations: list[Operation] = []
        self._bound: list[tuple[Operation, Callable[..., Any]]] = []
        self._document: dict[str, Any] | None = None

    @property
    def routes(self) -> list[BaseRoute]:
        """The Starlette routes of every declared operation (one per path, all its methods)."""
        return routes(self._bound)

    def _register(self, operation: Operation) -> None:
        if any(op.operation_id == operation.operation_id for op in self.operations):
            raise ValueError(f"duplicate operation id {operation.operation_id!r}: pass operation_id=")
        self.operations.append(operation)
        self._document = None

    def describe(
        self,
        method: str,
        path: str,
        *,
        operation_id: str,
        responses: Mapping[int, Any] | None = None,
        summary: str | None = None,
        description: str | None = None,
    ) -> None:
        """Document a path served by something other than a declared route (a mount, a proxy)."""
        self._register(
            Operation(
                method=method.upper(),
                path=path,
                operation_id=operation_id,
                responses=dict(responses or {200: None}),
                summary=summary,
                description=description,
            )
        )

    def route(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        body_media_type: str = JSON,
        query: type[BaseModel] | None = None,
        path_params: type[BaseModel] | None = None,
        headers: Sequence[Header] = (),
        responses: Mapping[int, Any] | None = None,
        auth: bool | Iterable[str] = False,
        summary: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        operation_id: str | None = None,
    ) -> Callable[[Endpoint], Endpoint]:
        """Declare `async def endpoint(request, **inputs) -> Response`, document it, and enforce it.

        `body` is the JSON body model (keyword `body`; its media type `body_media_type`, e.g.
        `application/merge-patch+json`), or a `RawBody` (an `Upload`), `query` a model whose fields are the query
        parameters (`query`), `path_params` an optional model that validates the path's `{name}`
        segments (each passed as its own keyword; a mismatch is a 404), `headers` the request
        headers read (each as its `param`), `auth` True for any signed-in caller or the roles of
        which the caller needs one (`principal`). The endpoint may also take `context`, the
        request's `MessageContext`. `responses` maps status codes to what the body is. The
        description defaults to the endpoint's docstring.
        """
        roles = frozenset() if isinstance(auth, bool) else frozenset(auth)

        def decorate(endpoint: Endpoint) -> Endpoint:
            op = Operation(
                method=method.upper(),
                path=path,
                operation_id=operation_id or endpoint.__name__,
                body=body,
                body_media_type=body_media_type,
                query=query,
                path_model=path_params,
                headers=tuple(headers),
                responses=dict(responses or {200: None}),
                auth=bool(auth) or bool(roles),
                roles=roles,
                summary=summary,
                description=description or endpoint.__doc__,
                tags=tuple(tags),
            )
            bound = bind(op, endpoint, [p["name"] for p in path_parameters(path)])
            self._register(op)
            self._bound.append((op, bound))
            return endpoint

        return decorate

    def websocket(
        self,
        path: str,
        *,
        summary: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        operation_id: str | None = None,
    ) -> Callable[[W], W]:
        """Decorate an `async def endpoint(websocket)`: register its WebSocketRoute and document it
        (as a GET that upgrades, marked `x-websocket: true`; OpenAPI has no WebSocket operations).
        Its messages, authentication included, are the endpoint's own protocol."""

        def decorate(endpoint: W) -> W:
            self._register(
                Operation(
                    method="GET",
                    path=path,
                    operation_id=operation_id or endpoint.__name__,
                    # A plain HTTP request on the path is told to upgrade (routing.upgrade_required).
                    responses={101: None, 426: Problem},
                    summary=summary,
                    description=description or endpoint.__doc__,
                    tags=tuple(tags),
                    websocket=True,
                )
            )
            self._bound.append((self.operations[-1], endpoint))
            return endpoint

        return decorate

    def document(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document for every registered route (built once, then cached)."""
        if self._document is None:
            self._document = self._build()
        return self._document

    async def endpoint(self, request: Request) -> Response:
        """`GET …/openapi.json`: serve the document."""
        return JSONResponse(self.document())

    def _build(self) -> dict[str, Any]:
        inputs: list[tuple[Any, JsonSchemaMode, TypeAdapter[Any]]] = [
            ("problem", "serialization", TypeAdapter(ProblemDetails))
        ]
        for i, op in enumerate(self.operations):
            if op.body is not None and not isinstance(op.body, RawBody):
                inputs.append((("request", i), "validation", TypeAdapter(op.body)))
            if op.query is not None:
                inputs.append((("query", i), "validation", TypeAdapter(op.query)))
            if op.path_model is not None:
                inputs.append((("path", i), "validation", TypeAdapter(op.path_model)))
            for status, body in op.responses.items():
                if body is not None and not _is_problem(body):
                    inputs.append((("response", i, status), "serialization", TypeAdapter(body)))
        by_key, defs = TypeAdapter.json_schemas(inputs, ref_template=REF_TEMPLATE)
        schemas: dict[str, Any] = defs.get("$defs", {})
        found = {key: schema for (key, _mode), schema in by_key.items()}

        paths: dict[str, dict[str, Any]] = {}
        for i, op in enumerate(self.operations):
            item = paths.setdefault(openapi_path(op.path), {})
            item[op.method.lower()] = self._operation(i, op, found, schemas)
        document: dict[str, Any] = {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version},
            "paths": paths,
            "components": {
                "schemas": _reachable(paths, schemas),
                "securitySchemes": {BEARER_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            },
        }
        if self.description:
            document["info"]["description"] = self.description
        if self.servers:
            document["servers"] = [{"url": url} for url in self.servers]
        return document

    def _operation(self, i: int, op: Operation, found: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"operationId": op.operation_id}
        if op.summary:
            out["summary"] = op.summary
        if op.description:
            out["description"] = " ".join(op.description.split())
        if op.tags:
            out["tags"] = list(op.tags)
        parameters = path_parameters(op.path)
        if op.path_model is not None:
            declared = {p["name"]: p for p in self._parameters(found[("path", i)], schemas, "path")}
            parameters = [declared.get(p["name"], p) for p in parameters]
        if op.query is not None:
            parameters += self._parameters(found[("query", i)], schemas, "query")
        parameters += [h.parameter() for h in op.headers]
        if parameters:
            out["parameters"] = parameters
        if op.roles:
            out["x-roles"] = sorted(op.roles)
        if isinstance(op.body, RawBody):
            binary = {"schema": {"type": "string", "format": "binary"}}
            out["requestBody"] = {"required": True, "content": {mt: dict(binary) for mt in op.body.media_types}}
        elif op.body is not None:
            out["requestBody"] = {
                "required": True,
                "content": {op.body_media_type: {"schema": found[("request", i)]}},
            }
        if op.auth:
            out["security"] = [{BEARER_SCHEME: []}]
        if op.websocket:
            out["x-websocket"] = True

        implied: list[int] = []
        if op.body is not None:
            implied += _BODY_PROBLEMS
        if op.query is not None:
            implied += _QUERY_PROBLEMS
        if op.headers:
            implied += _HEADER_PROBLEMS
            implied += [h.missing_status for h in op.headers if h.required]
        if path_parameters(op.path) and not op.websocket:
            implied += _PATH_PROBLEMS
        if op.auth:
            implied += _AUTH_PROBLEMS
        if op.roles:
            implied += _ROLE_PROBLEMS
        responses: dict[str, Any] = {}
        for status, body in sorted({**dict.fromkeys(implied, Problem), **op.responses}.items()):
            response: dict[str, Any] = {"description": _phrase(status)}
            if _is_problem(body):
                response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": found["problem"]}}
            elif body is not None:
                response["content"] = {"application/json": {"schema": found[("response", i, status)]}}
            responses[str(status)] = response
        out["responses"] = responses
        return out

    @staticmethod
    def _parameters(schema: dict[str, Any], schemas: dict[str, Any], where: str) -> list[dict[str, Any]]:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            schema = schemas[ref.rsplit("/", 1)[1]]
        required = set(schema.get("required", []))
        params = []
        for name, prop in schema.get("properties", {}).items():
            param: dict[str, Any] = {"name": name, "in": where, "required": where == "path" or name in required}
            prop = {k: v for k, v in prop.items() if k != "title"}
            if "description" in prop:
                param["description"] = prop.pop("description")
            param["schema"] = prop
            params.append(param)
        return params
