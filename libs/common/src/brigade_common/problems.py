"""RFC 9457 problem details: the one error shape every Brigade HTTP API returns.

Raise a `Problem` (or one of its subclasses) anywhere below an endpoint; the handlers installed by
`install_problem_handlers` turn it, Starlette's own HTTP errors, pydantic validation errors and any
unexpected exception into `application/problem+json`. Unexpected exceptions are logged, never shown.
"""

from __future__ import annotations

import http
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, TypedDict

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketState

from brigade_common import idempotency
from brigade_common.auth.keysource import KeysUnavailable
from brigade_common.dependencies import RETRY_AFTER_S, unavailable

PROBLEM_BASE = "https://brigade.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

_log = structlog.get_logger("brigade_common.problems")


class FieldError(TypedDict):
    """One offending input: `field` is a dotted path (`quantity`, `items.0.sku`) or a header name."""

    field: str
    message: str


def problem_type(slug: str) -> str:
    """The stable `type` URI for a problem slug, e.g. `not-found` → https://brigade.dev/problems/not-found."""
    return slug if "://" in slug else PROBLEM_BASE + slug


def _slug_for_status(status: int) -> str:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        return "http-error"
    return phrase.lower().replace(" ", "-").replace("'", "")


def _title_for_status(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "HTTP Error"


class Problem(Exception):
    """An error a client should see, rendered as problem+json.

    `type` is a stable slug (`idempotency-key-reused`) that becomes the `type` URI; `field` is a
    shorthand for a single `FieldError` carrying `detail` as its message; `extensions` are extra
    top-level members of the document.
    """

    status_code: ClassVar[int] = 500
    default_slug: ClassVar[str] = "internal-error"
    default_title: ClassVar[str] = "Internal Server Error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        type: str | None = None,
        title: str | None = None,
        status: int | None = None,
        field: str | None = None,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        self.status: int = status if status is not None else self.status_code
        self.slug: str = type or self.default_slug
        self.type: str = problem_type(self.slug)
        self.title: str = title or self.default_title
        self.detail: str | None = detail
        self.errors: list[FieldError] = list(errors or [])
        if field is not None:
            self.errors.append(FieldError(field=field, message=detail or self.title))
        self.headers: dict[str, str] = dict(headers or {})
        self.extensions: dict[str, Any] = dict(extensions or {})
        super().__init__(detail or self.title)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, slug={self.slug!r}, detail={self.detail!r})"

    def to_dict(self) -> dict[str, Any]:
        """The problem+json document (without per-request members such as `instance`)."""
        body: dict[str, Any] = {**self.extensions, "type": self.type, "title": self.title}
        body["status"] = self.status
        if self.detail is not None:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = [dict(e) for e in self.errors]
        return body


class BadRequest(Problem):
    """400: the request is malformed (bad JSON, bad header)."""

    status_code = 400
    default_slug = "bad-request"
    default_title = "Bad Request"


class Unauthorized(Problem):
    """401: no valid credentials; carries `WWW-Authenticate: Bearer`."""

    status_code = 401
    default_slug = "unauthorized"
    default_title = "Unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(Problem):
    """403: authenticated, but not allowed to do this."""

    status_code = 403
    default_slug = "forbidden"
    default_title = "Forbidden"


class NotFound(Problem):
    """404: no such resource (or not visible to this principal)."""

    status_code = 404
    default_slug = "not-found"
    default_title = "Not Found"


class Conflict(Problem):
    """409: the request conflicts with the resource's current state."""

    status_code = 409
    default_slug = "conflict"
    default_title = "Conflict"


class PayloadTooLarge(Problem):
    """413: the body is larger than the endpoint accepts."""

    status_code = 413
    default_slug = "payload-too-large"
    default_title = "Content Too Large"


class UnsupportedMediaType(Problem):
    """415: the body is not in a format the endpoint accepts."""

    status_code = 415
    default_slug = "unsupported-media-type"
    default_title = "Unsupported Media Type"


class Unprocessable(Problem):
    """422: well-formed, but the values are not acceptable."""

    status_code = 422
    default_slug = "unprocessable"
    default_title = "Unprocessable Content"


class ServiceUnavailable(Problem):
    """503: a dependency is down; try again later."""

    status_code = 503
    default_slug = "service-unavailable"
    default_title = "Service Unavailable"


class ProblemFieldError(BaseModel):
    """One offending input: a dotted field path (`quantity`, `lines.0.amount`) or a header name."""

    field: str
    message: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem details document; `type` is stable, `errors` names the offending fields."""

    # The OpenAPI schema of what `Problem` renders; code raises `Problem`, never builds this.
    model_config = ConfigDict(extra="allow", title="ProblemDetails")

    type: str = Field(examples=[PROBLEM_BASE + "validation-error"])
    title: str
    status: int
    detail: str | SkipJsonSchema[None] = None
    instance: str | SkipJsonSchema[None] = None
    request_id: str | SkipJsonSchema[None] = None
    errors: list[ProblemFieldError] = Field(default_factory=list)


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a dotted field path; the empty location is the whole `body`."""
    return ".".join(str(part) for part in loc) if loc else "body"


def validation_problem(exc: ValidationError, *, detail: str = "The request has invalid fields.") -> Unprocessable:
    """A 422 problem with one `FieldError` per pydantic error."""
    errors = [FieldError(field=field_path(e["loc"]), message=e["msg"]) for e in exc.errors(include_url=False)]
    return Unprocessable(detail, type="validation-error", title="Validation Failed", errors=errors)


def problem_response(problem: Problem, *, instance: str | None = None, request_id: str | None = None) -> Response:
    """Render `problem` as an `application/problem+json` response with its status and headers."""
    body = problem.to_dict()
    if instance is not None:
        body.setdefault("instance", instance)
    if request_id is not None:
        body.setdefault("request_id", request_id)
    return Response(
        json.dumps(body, ensure_ascii=False, default=str).encode(),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _request_id(conn: HTTPConnection) -> str | None:
    value = conn.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


async def _close_websocket(websocket: WebSocket, problem: Problem) -> None:
    # 1008 policy violation for client errors, 1011 for server errors (RFC 6455 §7.4.1).
    code = 1011 if problem.status >= 500 else 1008
    if websocket.application_state != WebSocketState.DISCONNECTED:
        await websocket.close(code=code, reason=problem.title[:120])


async def _respond(conn: HTTPConnection, problem: Problem) -> Response | None:
    if isinstance(conn, WebSocket):
        await _close_websocket(conn, problem)
        return None
    return problem_response(problem, instance=conn.url.path, request_id=_request_id(conn))


async def _handle_problem(conn: HTTPConnection, exc: Exception) -> Response | None:
    assert isinstance(exc, Problem)
    return await _respond(conn, exc)


async def _handle_http_exception(conn: HTTPConnection, exc: Exception) -> Response | None:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    detail = exc.detail if exc.detail and exc.detail != _title_for_status(status) else None
    problem = Problem(
        detail,
        status=status,
        type=_slug_for_status(status),
        title=_title_for_status(status),
        headers=exc.headers,
    )
    if status in (204, 304):
        return Response(status_code=status, headers=exc.headers)
    return await _respond(conn, problem)


async def _handle_validation_error(conn: HTTPConnection, exc: Exception) -> Response | None:
    assert isinstance(exc, ValidationError)
    return await _respond(conn, validation_problem(exc))


def internal_error_response(request: Request, exc: BaseException) -> Response:
    """Log `exc` with the request id and answer a bare 500 `internal-error` problem; a dependency
    that is down (brigade_common.dependencies) is a 503 `dependency-unavailable` naming it, with
    `Retry-After`: nothing was half-applied (the transaction rolled back), the client may retry."""
    request_id = _request_id(request)
    dependency = unavailable(exc)
    if dependency is not None:
        _log.warning(
            "dependency_unavailable",
            dependency=dependency,
            method=request.method,
            path=request.url.path,
            error=repr(exc),
        )
        busy = ServiceUnavailable(
            f"the {dependency} is unavailable; try again shortly",
            type="dependency-unavailable",
            title="Dependency Unavailable",
            headers={"Retry-After": str(RETRY_AFTER_S)},
            extensions={"dependency": dependency},
        )
        return problem_response(busy, instance=request.url.path, request_id=request_id)
    _log.error(
        "unhandled_exception",
        method=request.method,
        path=request.url.path,
        request_id=request_id,
        exc_info=exc,
    )
    problem = Problem("An unexpected error occurred; it has been logged.")
    return problem_response(problem, instance=request.url.path, request_id=request_id)


async def _handle_unexpected(request: Request, exc: Exception) -> Response:
    return internal_error_response(request, exc)


ProblemMapper = Callable[[Exception], Problem]


def _idempotency_key_reused(exc: Exception) -> Problem:
    # `code` is Stripe's name for this error, for clients written against its API.
    return Unprocessable(
        str(exc),
        field=idempotency.HEADER,
        type="idempotency-key-reused",
        title="Idempotency Key Reused",
        extensions={"code": "idempotency_error"},
    )


def _idempotent_request_in_progress(exc: Exception) -> Problem:
    return Conflict(
        str(exc),
        field=idempotency.HEADER,
        type="idempotent-request-in-progress",
        title="Request In Progress",
        headers={"Retry-After": "1"},
    )


def _keys_unavailable(exc: Exception) -> Problem:
    return ServiceUnavailable(
        "tokens cannot be verified right now (the auth service's keys are out of reach); try again shortly",
        type="dependency-unavailable",
        title="Dependency Unavailable",
        headers={"Retry-After": str(RETRY_AFTER_S)},
        extensions={"dependency": "auth"},
    )


# The common library's own errors, as every service answers them.
COMMON_PROBLEMS: Mapping[type[Exception], ProblemMapper] = {
    idempotency.IdempotencyKeyReused: _idempotency_key_reused,
    idempotency.RequestInProgress: _idempotent_request_in_progress,
    KeysUnavailable: _keys_unavailable,
}


def _mapped(to_problem: ProblemMapper) -> Callable[[HTTPConnection, Exception], Awaitable[Response | None]]:
    async def handle(conn: HTTPConnection, exc: Exception) -> Response | None:
        return await _respond(conn, to_problem(exc))

    return handle


def install_problem_handlers(app: Starlette, mappers: Mapping[type[Exception], ProblemMapper] | None = None) -> None:
    """Map Problem, Starlette HTTPException, pydantic ValidationError, the common library's errors,
    the service's `mappers` (exception type → the problem it is; subclasses included) and any other
    error to problem+json."""
    for exc_type, to_problem in {**COMMON_PROBLEMS, **(mappers or {})}.items():
        app.add_exception_handler(exc_type, _mapped(to_problem))  # type: ignore[arg-type]
    app.add_exception_handler(Problem, _handle_problem)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _handle_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationError, _handle_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _handle_unexpected)
