"""problem+json rendering and the exception handlers, through a tiny real Starlette app."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from structlog.testing import capture_logs

from brigade_common.problems import (
    PROBLEM_MEDIA_TYPE,
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
    install_problem_handlers,
    problem_response,
)


class Item(BaseModel):
    quantity: int = Field(gt=0)
    tags: list[str] = []


async def raise_conflict(request: Request) -> Response:
    raise Conflict(
        "the order is already served",
        type="order-not-cancellable",
        errors=[FieldError(field="status", message="is served")],
    )


async def raise_validation(request: Request) -> Response:
    Item.model_validate({"quantity": 0, "tags": ["ok", 5]})
    return PlainTextResponse("unreachable")


async def crash(request: Request) -> Response:
    raise RuntimeError("secret connection string postgresql://u:p@db")


async def ok(request: Request) -> Response:
    return PlainTextResponse("ok")


def make_app() -> Starlette:
    app = Starlette(
        routes=[
            Route("/conflict", raise_conflict),
            Route("/validation", raise_validation),
            Route("/crash", crash),
            Route("/only-post", ok, methods=["POST"]),
        ]
    )
    install_problem_handlers(app)
    return app


def client(app: Starlette) -> httpx.AsyncClient:
    # Starlette's outermost error middleware re-raises after answering (so servers can log it).
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.mark.parametrize(
    ("problem", "status", "slug"),
    [
        (BadRequest(), 400, "bad-request"),
        (Unauthorized(), 401, "unauthorized"),
        (Forbidden(), 403, "forbidden"),
        (NotFound(), 404, "not-found"),
        (Conflict(), 409, "conflict"),
        (PayloadTooLarge(), 413, "payload-too-large"),
        (UnsupportedMediaType(), 415, "unsupported-media-type"),
        (Unprocessable(), 422, "unprocessable"),
        (ServiceUnavailable(), 503, "service-unavailable"),
    ],
)
def test_each_subclass_has_its_status_and_stable_type(problem: Problem, status: int, slug: str) -> None:
    assert problem.status == status
    assert problem.type == f"https://brigade.dev/problems/{slug}"
    response = problem_response(problem)
    assert response.status_code == status
    assert response.media_type == PROBLEM_MEDIA_TYPE


def test_field_shorthand_and_unauthorized_challenge() -> None:
    problem = Unauthorized("token expired", field="Authorization")
    assert problem.errors == [{"field": "Authorization", "message": "token expired"}]
    assert problem.headers["WWW-Authenticate"] == "Bearer"
    assert problem.to_dict() == {
        "type": "https://brigade.dev/problems/unauthorized",
        "title": "Unauthorized",
        "status": 401,
        "detail": "token expired",
        "errors": [{"field": "Authorization", "message": "token expired"}],
    }


async def test_a_raised_problem_becomes_problem_json_with_its_fields() -> None:
    async with client(make_app()) as c:
        r = await c.get("/conflict")
    assert r.status_code == 409
    assert r.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert r.json() == {
        "type": "https://brigade.dev/problems/order-not-cancellable",
        "title": "Conflict",
        "status": 409,
        "detail": "the order is already served",
        "instance": "/conflict",
        "errors": [{"field": "status", "message": "is served"}],
    }


async def test_unknown_route_and_wrong_method_are_problems() -> None:
    async with client(make_app()) as c:
        missing = await c.get("/nope")
        wrong = await c.get("/only-post")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert missing.json()["type"] == "https://brigade.dev/problems/not-found"
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "https://brigade.dev/problems/method-not-allowed"
    assert wrong.headers["allow"] == "POST"


async def test_validation_error_names_each_field_by_its_dotted_path() -> None:
    async with client(make_app()) as c:
        r = await c.get("/validation")
    assert r.status_code == 422
    body = r.json()
    assert body["type"] == "https://brigade.dev/problems/validation-error"
    assert sorted(e["field"] for e in body["errors"]) == ["quantity", "tags.1"]


async def test_an_unexpected_error_is_a_bare_500_and_is_logged() -> None:
    with capture_logs() as logs:
        async with client(make_app()) as c:
            r = await c.get("/crash")
    assert r.status_code == 500
    assert r.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = r.json()
    assert body["type"] == "https://brigade.dev/problems/internal-error"
    for leak in ("secret", "Traceback", "RuntimeError"):
        assert leak not in r.text
    entry = next(e for e in logs if e["event"] == "unhandled_exception")
    assert entry["log_level"] == "error"
    assert entry["path"] == "/crash"
    assert isinstance(entry["exc_info"], RuntimeError)
