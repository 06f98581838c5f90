"""The OpenAPI document built from declared routes, served by a real app."""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from brigade_common.auth.keys import generate_key, jwks
from brigade_common.auth.tokens import mint_token
from brigade_common.auth.verifier import JwtVerifier, Principal
from brigade_common.http import create_app, json_response
from brigade_common.inputs import IDEMPOTENCY_KEY, Header, RawBody, Upload
from brigade_common.openapi import OpenAPI
from brigade_common.problems import Conflict, NotFound, Problem


class Status(enum.StrEnum):
    pending = "pending"
    served = "served"


class Line(BaseModel):
    ingredient: str
    amount: int = Field(ge=1)


class PlaceOrderBody(BaseModel):
    dish_id: uuid.UUID
    quantity: int = Field(gt=0, le=20, description="How many portions.")


class OrderOut(BaseModel):
    id: uuid.UUID
    status: Status
    lines: list[Line]


class OrderQuery(BaseModel):
    status: Status | None = None
    limit: int = Field(default=20, ge=1, le=100, description="Page size.")


ORDER = OrderOut(id=uuid.UUID(int=1), status=Status.pending, lines=[Line(ingredient="pollo", amount=2)])


class OrderPath(BaseModel):
    id: uuid.UUID


def build_api() -> OpenAPI:
    api = OpenAPI(title="Brigade kitchen", version="1.2.3", description="Orders and dishes.")

    @api.route(
        "POST",
        "/api/kitchen/orders",
        body=PlaceOrderBody,
        responses={201: OrderOut, 202: OrderOut, 422: Problem},
        auth=True,
        headers=[IDEMPOTENCY_KEY],
        summary="Place an order",
    )
    async def place_order(
        request: Request, *, body: PlaceOrderBody, principal: Principal, idempotency_key: str | None
    ) -> Response:
        """Reserve what the pantry has and ask the warehouse for the rest."""
        return json_response(ORDER.model_copy(update={"lines": [Line(ingredient=principal.sub, amount=1)]}), status=201)

    @api.route("GET", "/api/kitchen/orders", query=OrderQuery, responses={200: list[OrderOut]})
    async def list_orders(request: Request, *, query: OrderQuery) -> Response:
        return json_response([ORDER] * min(query.limit, 2))

    @api.route("GET", "/api/kitchen/orders/{id}", path_params=OrderPath, responses={200: OrderOut, 404: NotFound})
    async def get_order(request: Request, *, id: uuid.UUID) -> Response:
        return json_response(ORDER.model_copy(update={"id": id}))

    @api.route(
        "POST",
        "/api/kitchen/orders/{id}/cancel",
        path_params=OrderPath,
        responses={204: None, 409: Conflict},
        auth={"staff"},
    )
    async def cancel_order(request: Request, *, id: uuid.UUID, principal: Principal) -> Response:
        return Response(status_code=204)

    @api.websocket("/api/kitchen/ws", summary="Live order updates")
    async def live(websocket: WebSocket) -> None:
        await websocket.close()

    return api


@pytest.fixture
def doc() -> dict[str, Any]:
    return build_api().document()


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/components/schemas/"), ref
    schema: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_every_route_is_an_operation(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "Brigade kitchen", "version": "1.2.3", "description": "Orders and dishes."}
    ops = {(path, method): op for path, item in doc["paths"].items() for method, op in item.items()}
    assert set(ops) == {
        ("/api/kitchen/orders", "post"),
        ("/api/kitchen/orders", "get"),
        ("/api/kitchen/orders/{id}", "get"),
        ("/api/kitchen/orders/{id}/cancel", "post"),
        ("/api/kitchen/ws", "get"),
    }
    assert len({op["operationId"] for op in ops.values()}) == 5


def test_every_ref_resolves_and_no_defs_are_left_inline(doc: dict[str, Any]) -> None:
    refs = [value for key, value in walk(doc) if key == "$ref"]
    assert refs
    for ref in refs:
        resolve(doc, ref)
    assert not any(key == "$defs" for key, _ in walk(doc))
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    # Only what some operation reaches is published (the query model is inlined as parameters).
    assert set(doc["components"]["schemas"]) == {
        "PlaceOrderBody",
        "OrderOut",
        "Line",
        "Status",
        "ProblemDetails",
        "ProblemFieldError",
    }


def test_request_and_response_schemas(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/kitchen/orders"]["post"]
    assert op["summary"] == "Place an order"
    assert op["description"] == "Reserve what the pantry has and ask the warehouse for the rest."
    body = resolve(doc, op["requestBody"]["content"]["application/json"]["schema"]["$ref"])
    assert body["properties"]["quantity"] == {
        "type": "integer",
        "exclusiveMinimum": 0,
        "maximum": 20,
        "title": "Quantity",
        "description": "How many portions.",
    }
    assert body["required"] == ["dish_id", "quantity"]
    for status in ("201", "202"):
        ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        out = resolve(doc, ref)
        assert resolve(doc, out["properties"]["lines"]["items"]["$ref"])["required"] == ["ingredient", "amount"]
    listing = doc["paths"]["/api/kitchen/orders"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listing["schema"]["type"] == "array"
    assert doc["paths"]["/api/kitchen/orders/{id}/cancel"]["post"]["responses"]["204"] == {"description": "No Content"}


def test_problem_responses_share_the_problem_details_schema(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/kitchen/orders"]["post"]
    # Declared 422, plus what parsing the body and the header and checking the caller can answer.
    assert set(op["responses"]) == {"201", "202", "400", "401", "413", "415", "422"}
    cancel = doc["paths"]["/api/kitchen/orders/{id}/cancel"]["post"]
    assert set(cancel["responses"]) == {"204", "401", "403", "404", "409", "422"}  # roles: 403
    assert cancel["x-roles"] == ["staff"]
    for status in ("400", "401", "413", "415", "422"):
        content = op["responses"][status]["content"]
        assert content == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    problem = resolve(doc, "#/components/schemas/ProblemDetails")
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    get = doc["paths"]["/api/kitchen/orders/{id}"]["get"]
    assert "application/problem+json" in get["responses"]["404"]["content"]


def test_path_header_and_query_parameters(doc: dict[str, Any]) -> None:
    get = doc["paths"]["/api/kitchen/orders/{id}"]["get"]
    assert get["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
    ]
    [header] = doc["paths"]["/api/kitchen/orders"]["post"]["parameters"]
    assert (header["name"], header["in"], header["required"]) == ("Idempotency-Key", "header", False)
    assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"}
    params = {p["name"]: p for p in doc["paths"]["/api/kitchen/orders"]["get"]["parameters"]}
    assert set(params) == {"status", "limit"}
    assert (params["limit"]["in"], params["limit"]["required"]) == ("query", False)
    assert params["limit"]["description"] == "Page size."
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    refs = [v for k, v in walk(params["status"]["schema"]) if k == "$ref"]
    assert refs == ["#/components/schemas/Status"]


def test_bearer_security(doc: dict[str, Any]) -> None:
    assert doc["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    assert doc["paths"]["/api/kitchen/orders"]["post"]["security"] == [{"bearerAuth": []}]
    assert "security" not in doc["paths"]["/api/kitchen/orders"]["get"]


def test_websockets_are_documented_minimally(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/kitchen/ws"]["get"]
    assert op["x-websocket"] is True
    assert op["summary"] == "Live order updates"
    assert "101" in op["responses"]


def test_duplicate_operation_ids_are_refused() -> None:
    api = OpenAPI(title="t", version="1")

    async def handler(request: Request) -> Response:
        return Response()

    api.route("GET", "/a")(handler)
    with pytest.raises(ValueError, match="duplicate operation id"):
        api.route("GET", "/b")(handler)
    api.route("GET", "/b", operation_id="handler_b")(handler)
    assert len(api.routes) == 2


KEY = generate_key("k1")


def test_an_endpoint_must_take_exactly_what_its_declaration_gives() -> None:
    api = OpenAPI(title="t", version="1")

    async def ignores_its_body(request: Request) -> Response:
        return Response()

    async def wants_a_body_it_does_not_declare(request: Request, *, body: PlaceOrderBody) -> Response:
        return Response()

    with pytest.raises(TypeError, match="the declaration gives \\['body'\\]"):
        api.route("POST", "/a", body=PlaceOrderBody)(ignores_its_body)
    with pytest.raises(TypeError, match="the endpoint takes \\['body'\\]"):
        api.route("POST", "/b")(wants_a_body_it_does_not_declare)
    with pytest.raises(TypeError, match="principal"):
        api.route("POST", "/c", auth=True)(ignores_its_body)


async def test_an_endpoint_for_some_roles_may_leave_out_who_the_caller_is() -> None:
    api = OpenAPI(title="t", version="1")

    @api.route("GET", "/api/kitchen/ledger", auth=["staff"])
    async def ledger(request: Request) -> Response:
        return Response("the ledger")

    app = create_app(service="kitchen", openapi=api, jwt_verifier=JwtVerifier(jwks([KEY[1]])))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/api/kitchen/ledger")).status_code == 401
        assert (await c.get("/api/kitchen/ledger", headers=bearer("customer"))).status_code == 403
        allowed = await c.get("/api/kitchen/ledger", headers=bearer("staff"))
        assert (allowed.status_code, allowed.text) == (200, "the ledger")


@pytest.fixture
async def c() -> AsyncIterator[httpx.AsyncClient]:
    api = build_api()
    app = create_app(service="kitchen", openapi=api, jwt_verifier=JwtVerifier(jwks([KEY[1]])))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield client


def bearer(*roles: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(KEY[0], "k1", sub="alice", roles=roles or ("customer",))}


async def test_the_app_serves_the_document_and_enforces_what_it_declares(c: httpx.AsyncClient) -> None:
    served = await c.get("/api/kitchen/openapi.json")
    assert served.status_code == 200
    assert served.json() == build_api().document()
    body = {"dish_id": str(uuid.uuid4()), "quantity": 1}
    placed = await c.post("/api/kitchen/orders", json=body, headers=bearer())
    assert placed.status_code == 201
    assert placed.json()["lines"] == [{"ingredient": "alice", "amount": 1}]  # the verified principal
    # The caller is checked before the body is read: no token and a bad body is a 401, not a 422.
    assert (await c.post("/api/kitchen/orders", json={"quantity": "x"})).status_code == 401
    bad_key = await c.post("/api/kitchen/orders", json=body, headers={**bearer(), "Idempotency-Key": "x" * 300})
    assert bad_key.status_code == 400
    assert (await c.get("/api/kitchen/orders", params={"limit": "0"})).status_code == 422
    assert len((await c.get("/api/kitchen/orders", params={"limit": "5"})).json()) == 2
    found = await c.get(f"/api/kitchen/orders/{uuid.uuid4()}")
    assert found.status_code == 200
    assert (await c.get("/api/kitchen/orders/not-a-uuid")).status_code == 404
    oid = uuid.uuid4()
    assert (await c.post(f"/api/kitchen/orders/{oid}/cancel", headers=bearer())).status_code == 403
    assert (await c.post(f"/api/kitchen/orders/{oid}/cancel", headers=bearer("staff"))).status_code == 204


async def test_every_method_of_a_path_is_allowed_and_others_get_a_405_listing_them(c: httpx.AsyncClient) -> None:
    for method in ("OPTIONS", "DELETE", "PATCH"):
        r = await c.request(method, "/api/kitchen/orders")
        assert r.status_code == 405, method
        assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    head = await c.head("/api/kitchen/orders")
    assert head.status_code == 200 and head.content == b""


# ------------------------------------------------------------------------ other bodies, If-Match


class Patch(BaseModel):
    name: str | None = None


VERSION = Header(
    name="If-Match",
    param="if_match",
    schema={"type": "string"},
    description="the version read",
    valid=lambda v: v.startswith('"'),
    invalid="a quoted ETag",
    required=True,
    missing_status=428,
    missing_type="precondition-required",
)


def bodies_api() -> OpenAPI:
    api = OpenAPI(title="bodies", version="1")

    @api.route("PATCH", "/things", body=Patch, body_media_type="application/merge-patch+json", headers=[VERSION])
    async def patch_thing(request: Request, *, body: Patch, if_match: str) -> Response:
        return json_response({"set": sorted(body.model_fields_set), "if_match": if_match})

    @api.route("PUT", "/things/picture", body=RawBody(("image/png",), 16))
    async def put_picture(request: Request, *, body: Upload) -> Response:
        return json_response({"type": body.media_type, "size": len(body.data)})

    return api


async def test_a_json_body_of_another_media_type_a_raw_body_and_a_header_missing_as_428() -> None:
    api = bodies_api()
    document = api.document()["paths"]
    assert list(document["/things"]["patch"]["requestBody"]["content"]) == ["application/merge-patch+json"]
    assert "428" in document["/things"]["patch"]["responses"]
    assert document["/things/picture"]["put"]["requestBody"]["content"] == {
        "image/png": {"schema": {"type": "string", "format": "binary"}}
    }
    app = create_app(service="bodies", openapi=api)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        merge = {"content-type": "application/merge-patch+json", "If-Match": '"1"'}
        ok = await client.patch("/things", content=b'{"name": null}', headers=merge)
        assert ok.json() == {"set": ["name"], "if_match": '"1"'}
        as_json = await client.patch("/things", json={}, headers={"If-Match": '"1"'})
        assert as_json.status_code == 415
        missing = await client.patch("/things", content=b"{}", headers={"content-type": merge["content-type"]})
        assert (missing.status_code, missing.json()["errors"][0]["field"]) == (428, "If-Match")
        assert missing.json()["title"] == "Precondition Required"
        picture = await client.put("/things/picture", content=b"\x89PNG", headers={"content-type": "image/png"})
        assert picture.json() == {"type": "image/png", "size": 4}
        too_big = await client.put("/things/picture", content=b"x" * 17, headers={"content-type": "image/png"})
        assert too_big.status_code == 413
        other = await client.put("/things/picture", content=b"x", headers={"content-type": "image/gif"})
        assert (other.status_code, other.json()["errors"][0]["field"]) == (415, "content-type")
