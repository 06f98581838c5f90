"""What a request brings, parsed and refused with the field named: JSON bodies, query strings,
headers and path parameters.

Every parser also refuses text PostgreSQL cannot store (NUL, and lone UTF-16 surrogates, which
JSON's `\\ud800` escapes produce), with a 422 naming the field, so no such value ever reaches a
query and fails there as a server error.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError
from starlette.requests import HTTPConnection, Request

from brigade_common import idempotency
from brigade_common.problems import (
    BadRequest,
    FieldError,
    PayloadTooLarge,
    Problem,
    Unprocessable,
    UnsupportedMediaType,
    field_path,
    validation_problem,
)

M = TypeVar("M", bound=BaseModel)

DEFAULT_MAX_BYTES = 64 * 1024
JSON = "application/json"


# ---------------------------------------------------------------------------------------- numbers


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Makes an integer field of a strict JSON body take what JSON Schema calls an integer: `5` and
# `5.0`, and still not `5.5`, the string `"5"` or `true`. Put it after the field's constraints
# (`Annotated[int, Field(ge=1), WHOLE]`), so the schema keeps them as `minimum`/`maximum`.
WHOLE = BeforeValidator(_whole)


# ---------------------------------------------------------------------------- text PostgreSQL refuses


def _unstorable(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text)


def _bad_text(value: Any, loc: tuple[int | str, ...]) -> Iterator[tuple[int | str, ...]]:
    if isinstance(value, str):
        if _unstorable(value):
            yield loc
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and _unstorable(key):
                yield (*loc, key)
            yield from _bad_text(item, (*loc, key))
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            yield from _bad_text(item, (*loc, i))


def refuse_unstorable_text(data: Any, *, where: tuple[int | str, ...] = ()) -> None:
    """422 naming every field of `data` (a model or plain data) whose text PostgreSQL cannot store."""
    plain = data.model_dump(mode="python", by_alias=True) if isinstance(data, BaseModel) else data
    bad = [field_path(loc) for loc in _bad_text(plain, where)]
    if bad:
        errors = [FieldError(field=f, message="must not contain NUL or unpaired surrogate characters") for f in bad]
        raise Unprocessable(
            "The request has invalid fields.", type="validation-error", title="Validation Failed", errors=errors
        )


# ---------------------------------------------------------------------------------------- bodies


def _media_type(request: Request, accepted: tuple[str, ...]) -> str:
    """The body's media type, 415 (naming `content-type`) unless it is one of `accepted`."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in accepted:
        raise UnsupportedMediaType(
            f"expected Content-Type {' or '.join(accepted)}, got {media_type or 'none'}", field="content-type"
        )
    return media_type


async def _read_limited(request: Request, max_bytes: int) -> bytes:
    """The whole body, 413 past `max_bytes` (counted while reading, whatever Content-Length says)."""
    too_large = PayloadTooLarge(f"the body must be at most {max_bytes} bytes", field="body")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # so request.body() still works for whoever comes next (fingerprints)
    return body


async def parse_json(
    request: Request, model: type[M], *, max_bytes: int = DEFAULT_MAX_BYTES, media_type: str = JSON
) -> M:
    """Read the body as `model`: 415 unless its Content-Type is `media_type` (`application/json`, or
    another JSON type such as `application/merge-patch+json`), 413 past `max_bytes` (counted while
    reading, whatever Content-Length says), 400 for malformed JSON, 422 naming each invalid field.

    Validation is strict (JSON `"5"` is not an int). The raw body stays available as `request.body()`.
    """
    _media_type(request, (media_type,))
    body = await _read_limited(request, max_bytes)
    try:
        parsed = model.model_validate_json(body, strict=True)
    except ValidationError as exc:
        invalid = [e for e in exc.errors(include_url=False) if e["type"] == "json_invalid"]
        if invalid:
            raise BadRequest(invalid[0]["msg"], type="malformed-json", field="body") from None
        raise validation_problem(exc) from None
    # In JSON a NUL can only be written `\u0000` (lone surrogates the parser refuses already), so
    # a body without that escape needs no walk.
    if b"\\u0000" in body:
        refuse_unstorable_text(parsed)
    return parsed


@dataclass(frozen=True)
class Upload:
    """A raw body as a route declared with `RawBody` receives it."""

    media_type: str
    data: bytes


@dataclass(frozen=True)
class RawBody:
    """A body that is not JSON (a picture): declared as `body=RawBody(...)`, documented as binary in
    each of its `media_types`, read whole up to `max_bytes` and handed to the endpoint as an `Upload`.
    What the bytes are is the endpoint's to check: only their declared type and size are checked here."""

    media_types: tuple[str, ...]
    max_bytes: int

    async def read(self, request: Request) -> Upload:
        media_type = _media_type(request, self.media_types)
        return Upload(media_type, await _read_limited(request, self.max_bytes))


# ---------------------------------------------------------------------------------- query strings


def _is_multi(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_multi(arg) for arg in typing.get_args(annotation)) if origin is not None else False


def parse_query(request: HTTPConnection, model: type[M]) -> M:
    """Read the query string as `model` (lax: "5" is an int here); 422 naming each invalid parameter.
    Fields typed as lists collect repeated parameters (`?tag=a&tag=b`)."""
    multi = {
        name
        for field_name, info in model.model_fields.items()
        if _is_multi(info.annotation)
        for name in (field_name, info.alias)
        if name
    }
    params = request.query_params
    data = {key: params.getlist(key) if key in multi else params[key] for key in params}
    refuse_unstorable_text(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc, detail="The query has invalid parameters.") from None


# ---------------------------------------------------------------------------------------- headers


@dataclass(frozen=True)
class Header:
    """A request header a route reads: documented as a parameter, parsed before the endpoint runs,
    and handed to it as the keyword `param` (None when absent and not required)."""

    name: str
    param: str
    schema: Mapping[str, Any]
    description: str
    valid: Callable[[str], bool]
    invalid: str  # the problem's detail when the value is not valid
    required: bool = False
    problem_type: str = "invalid-header"
    extra: Mapping[str, Any] = field(default_factory=dict)
    # What a missing required header is answered with: a 400, or (If-Match) 428 Precondition Required.
    missing_status: int = 400
    missing_type: str = "missing-header"

    def read(self, request: HTTPConnection) -> str | None:
        value = request.headers.get(self.name)
        if value is None:
            if self.required:
                raise Problem(
                    f"this endpoint requires an {self.name} header",
                    field=self.name,
                    type=self.missing_type,
                    status=self.missing_status,
                    title=HTTPStatus(self.missing_status).phrase,
                )
            return None
        if not self.valid(value):
            raise BadRequest(self.invalid, field=self.name, type=self.problem_type)
        return value

    def parameter(self) -> dict[str, Any]:
        """The OpenAPI parameter object."""
        return {
            "name": self.name,
            "in": "header",
            "required": self.required,
            "description": self.description,
            "schema": dict(self.schema),
        }


IDEMPOTENCY_KEY = Header(
    name=idempotency.HEADER,
    param="idempotency_key",
    schema={"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
    description="Makes a retry safe: the same key and body give the first request's result; the same key "
    "with another body is refused with 422. Keys are kept for 24 hours.",
    valid=idempotency.valid_key,
    invalid=f"{idempotency.HEADER} must be 1 to {idempotency.MAX_KEY_LENGTH} printable ASCII characters",
    problem_type="invalid-idempotency-key",
)


# -------------------------------------------------------------------------------- path parameters


def path_parameters(request: HTTPConnection) -> dict[str, Any]:
    """The route's path parameters, their text checked like any other input."""
    params = dict(request.path_params)
    refuse_unstorable_text(params)
    return params
