"""parse_json / parse_query / json_response, the request context and the app factory, through tiny
real Starlette apps."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import structlog
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from brigade_common.http import create_app, json_response
from brigade_common.http_context import message_context
from brigade_common.inputs import parse_json, parse_query
from brigade_common.problems import PROBLEM_MEDIA_TYPE


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


class PlaceOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dish_id: str
    quantity: int = Field(gt=0, le=100)


class OrderOut(BaseModel):
    id: uuid.UUID
    dish_id: str = Field(serialization_alias="dishId")
    quantity: int
    created_at: dt.datetime


class Listing(BaseModel):
    status: list[str] = []
    limit: int = Field(default=20, ge=1, le=100)


ORDER_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


async def place_order(request: Request) -> Response:
    body = await parse_json(request, PlaceOrder, max_bytes=1024)
    raw = await request.body()  # still readable after parse_json
    out = OrderOut(
        id=ORDER_ID,
        dish_id=body.dish_id,
        quantity=body.quantity,
        created_at=dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )
    return json_response(out, status=201, headers={"X-Raw-Length": str(len(raw))})


async def list_orders(request: Request) -> Response:
    query = parse_query(request, Listing)
    return json_response(query)


async def whoami(request: Request) -> Response:
    structlog.get_logger("test").info("inside_endpoint")
    return json_response(
        {
            "request_id": current_request_id(),
            "correlation_id": structlog.contextvars.get_contextvars().get("correlation_id"),
            "state": request.state.request_id,
            "message_context": message_context(request).correlation_id,
        }
    )


async def crash(request: Request) -> Response:
    raise ZeroDivisionError("boom")


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(3):
            yield f"chunk{i}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    text = await websocket.receive_text()
    await websocket.send_text(f"{text}:{current_request_id() is not None}")
    await websocket.close()


def make_app() -> Starlette:
    return create_app(
        service="kitchen",
        routes=[
            Route("/api/kitchen/orders", place_order, methods=["POST"]),
            Route("/api/kitchen/orders", list_orders, methods=["GET"]),
            Route("/whoami", whoami),
            Route("/crash", crash),
            Route("/stream", stream),
            WebSocketRoute("/ws", echo),
        ],
    )


@pytest.fixture
async def c() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def fields(r: httpx.Response) -> list[str]:
    assert r.headers["content-type"] == PROBLEM_MEDIA_TYPE
    return [e["field"] for e in r.json()["errors"]]


async def test_a_valid_body_is_parsed_and_the_model_serialised_by_alias(c: httpx.AsyncClient) -> None:
    r = await c.post("/api/kitchen/orders", json={"dish_id": "d1", "quantity": 2})
    assert r.status_code == 201
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"id": str(ORDER_ID), "dishId": "d1", "quantity": 2, "created_at": "2025-01-02T03:04:05Z"}
    assert r.headers["x-raw-length"] == str(len(r.request.content))


@pytest.mark.parametrize("quantity", [0, -1, 10**9, "x", "5", None, 2.5, True])
async def test_a_bad_quantity_is_a_422_naming_quantity(c: httpx.AsyncClient, quantity: object) -> None:
    r = await c.post("/api/kitchen/orders", json={"dish_id": "d1", "quantity": quantity})
    assert r.status_code == 422
    assert fields(r) == ["quantity"]
    assert r.json()["type"] == "https://brigade.dev/problems/validation-error"


async def test_a_missing_field_and_an_unknown_field_are_named(c: httpx.AsyncClient) -> None:
    r = await c.post("/api/kitchen/orders", json={"dish_id": "d1", "qty": 1})
    assert r.status_code == 422
    assert sorted(fields(r)) == ["qty", "quantity"]


@pytest.mark.parametrize("body", [b"{", b"", b"\xff\xfe", b'{"dish_id": "d1", "quantity": 1,}'])
async def test_malformed_json_is_a_400_on_body(c: httpx.AsyncClient, body: bytes) -> None:
    r = await c.post("/api/kitchen/orders", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert fields(r) == ["body"]


async def test_a_json_array_instead_of_an_object_is_a_422_on_body(c: httpx.AsyncClient) -> None:
    r = await c.post("/api/kitchen/orders", json=[1, 2])
    assert r.status_code == 422
    assert fields(r) == ["body"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_json_is_a_415(c: httpx.AsyncClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    r = await c.post("/api/kitchen/orders", content=b'{"dish_id":"d1","quantity":1}', headers=headers)
    assert r.status_code == 415
    assert fields(r) == ["content-type"]


async def test_a_charset_parameter_is_accepted(c: httpx.AsyncClient) -> None:
    r = await c.post(
        "/api/kitchen/orders",
        content=b'{"dish_id":"d1","quantity":1}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 201


async def test_the_size_limit_holds_when_content_length_is_honest(c: httpx.AsyncClient) -> None:
    r = await c.post("/api/kitchen/orders", json={"dish_id": "d" * 2000, "quantity": 1})
    assert r.status_code == 413
    assert fields(r) == ["body"]


async def test_the_size_limit_holds_when_content_length_lies(c: httpx.AsyncClient) -> None:
    body = b'{"dish_id": "' + b"d" * 5000 + b'", "quantity": 1}'
    r = await c.post(
        "/api/kitchen/orders", content=body, headers={"content-type": "application/json", "content-length": "20"}
    )
    assert r.status_code == 413


async def test_the_size_limit_holds_when_content_length_is_absent(c: httpx.AsyncClient) -> None:
    async def chunked() -> AsyncIterator[bytes]:
        yield b'{"dish_id": "'
        for _ in range(100):
            yield b"d" * 100
        yield b'", "quantity": 1}'

    r = await c.post("/api/kitchen/orders", content=chunked(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert r.status_code == 413


async def test_query_parameters_are_coerced_and_repeated_ones_collected(c: httpx.AsyncClient) -> None:
    r = await c.get("/api/kitchen/orders", params=[("status", "pending"), ("status", "served"), ("limit", "5")])
    assert r.status_code == 200
    assert r.json() == {"status": ["pending", "served"], "limit": 5}
    bad = await c.get("/api/kitchen/orders", params={"limit": "lots"})
    assert bad.status_code == 422
    assert fields(bad) == ["limit"]


async def test_request_id_is_generated_echoed_and_bound_to_the_context(c: httpx.AsyncClient) -> None:
    with capture_logs(processors=[merge_contextvars]) as logs:
        r = await c.get("/whoami")
    request_id = r.headers["x-request-id"]
    assert len(request_id) >= 16
    assert r.json() == {
        "request_id": request_id,
        "correlation_id": request_id,
        "state": request_id,
        "message_context": request_id,
    }
    inside = next(e for e in logs if e["event"] == "inside_endpoint")
    assert inside["request_id"] == request_id
    line = next(e for e in logs if e["event"] == "http_request")
    assert (line["method"], line["path"], line["status"]) == ("GET", "/whoami", 200)
    assert line["request_id"] == request_id
    assert isinstance(line["duration_ms"], float)
    # The binding does not leak out of the request.
    assert current_request_id() is None


async def test_incoming_request_and_correlation_ids_are_kept(c: httpx.AsyncClient) -> None:
    r = await c.get("/whoami", headers={"X-Request-Id": "req-1", "Correlation-Id": "saga-7"})
    assert r.headers["x-request-id"] == "req-1"
    assert r.json()["correlation_id"] == "saga-7"
    assert r.json()["message_context"] == "saga-7"  # what the request's events carry


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-Request-Id", "has spaces"), ("Correlation-Id", "x" * 129), ("Correlation-Id", ""), ("Correlation-Id", "é")],
)
async def test_a_malformed_or_oversized_id_is_refused_at_the_edge_naming_the_header(
    c: httpx.AsyncClient, header: str, value: str
) -> None:
    with capture_logs(processors=[merge_contextvars]) as logs:
        r = await c.post(
            "/api/kitchen/orders",
            json={"dish_id": "pan-simple", "quantity": 1},
            headers={header: value.encode()},
        )
    assert r.status_code == 400
    assert fields(r) == [header]
    assert r.json()["type"].endswith("/invalid-header")
    assert r.json()["request_id"] == r.headers["x-request-id"]
    assert not any(value and value in str(e) for e in logs if e["event"] != "http_request")


async def test_a_crash_is_a_500_problem_with_the_request_id_and_one_log_line(c: httpx.AsyncClient) -> None:
    with capture_logs(processors=[merge_contextvars]) as logs:
        r = await c.get("/crash", headers={"X-Request-Id": "crash-1"})
    assert r.status_code == 500
    assert r.headers["x-request-id"] == "crash-1"
    assert r.json()["request_id"] == "crash-1"
    assert "boom" not in r.text
    errors = [e for e in logs if e["event"] == "unhandled_exception"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "crash-1"
    line = next(e for e in logs if e["event"] == "http_request")
    assert line["status"] == 500


async def test_unknown_route_is_a_problem_with_a_request_id(c: httpx.AsyncClient) -> None:
    r = await c.get("/api/kitchen/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert r.json()["request_id"] == r.headers["x-request-id"]


async def test_streaming_responses_pass_through_the_middleware(c: httpx.AsyncClient) -> None:
    r = await c.get("/stream")
    assert r.text == "chunk0\nchunk1\nchunk2\n"
    assert "x-request-id" in r.headers


async def test_websockets_pass_through_the_middleware() -> None:
    # httpx speaks no WebSocket, so the ASGI conversation is played by hand against the real app.
    incoming: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "hola"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": [],
        "subprotocols": [],
        "asgi": {"version": "3.0"},
    }
    await make_app()(scope, receive, send)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert sent[1]["text"] == "hola:True"


async def test_operational_routes_exist(c: httpx.AsyncClient) -> None:
    assert (await c.get("/healthz")).json() == {"status": "ok"}
    assert (await c.get("/readyz")).json() == {"status": "ready", "checks": {}}
    assert (await c.get("/metrics")).status_code == 200
    doc = (await c.get("/api/kitchen/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")


async def test_json_response_takes_plain_data_and_lists_of_models() -> None:
    out = OrderOut(id=ORDER_ID, dish_id="d", quantity=1, created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    r = json_response([out], headers={"Location": "/x"})
    assert r.body.startswith(b'[{"id":"00000000-0000-4000-8000-000000000001","dishId":"d"')
    assert r.headers["location"] == "/x"
    assert json_response({"a": ORDER_ID}, status=202).status_code == 202


async def test_a_client_that_leaves_mid_body_is_logged_as_499_not_as_a_crash() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/kitchen/orders",
        "raw_path": b"/api/kitchen/orders",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "asgi": {"version": "3.0"},
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
    }
    with capture_logs() as logs:
        await make_app()(scope, receive, send)
    assert sent == []
    assert [e["event"] for e in logs] == ["http_request"]
    assert logs[0]["status"] == 499


async def test_text_postgresql_cannot_store_is_refused_naming_the_field(c: httpx.AsyncClient) -> None:
    nul = await c.post("/api/kitchen/orders", json={"dish_id": "pan\u0000simple", "quantity": 1})
    assert nul.status_code == 422
    assert fields(nul) == ["dish_id"]
    query = await c.get("/api/kitchen/orders", params={"status": "a\u0000b"})
    assert query.status_code == 422
    assert fields(query) == ["status.0"]
    # A lone surrogate escape is not text at all: the JSON parser refuses the body.
    surrogate = '{"dish_id": "pan\\ud800", "quantity": 1}'
    r = await c.post("/api/kitchen/orders", content=surrogate, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert fields(r) == ["body"]


async def test_a_dependency_outage_is_a_503_with_retry_after_and_no_traceback() -> None:
    async def needs_the_database(request: Request) -> Response:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    app = create_app(service="kitchen", routes=[Route("/api/kitchen/pantry", needs_the_database)])
    with capture_logs(processors=[merge_contextvars]) as logs:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.get("/api/kitchen/pantry")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert r.json()["type"].endswith("/dependency-unavailable") and r.json()["dependency"] == "database"
    assert [e["log_level"] for e in logs if e["event"] == "dependency_unavailable"] == ["warning"]
    assert not any(e["event"] == "unhandled_exception" or "exc_info" in e for e in logs)
