"""HTTP `Idempotency-Key` support, stored in the service's own schema.

Inside the transaction that performs the write:

    key = read_idempotency_key(request, required=True)
    body = await parse_json(request, PlaceOrderBody)
    async with pool.acquire() as conn, conn.transaction():
        stored = await claim(conn, principal=p.sub, key=key, method="POST", path=request.url.path,
                             fingerprint=fingerprint("POST", request.url.path, body))
        if stored is not None:
            return replay_response(stored)
        ... the write ...
        await store(conn, principal=p.sub, key=key, status=201, response=out, resource_id=order_id)

The key row and the write commit (or roll back) together. Two concurrent requests with one key
serialise on the primary key: the second waits for the first transaction, then replays its result.
Use READ COMMITTED (PostgreSQL's default): under REPEATABLE READ the second would fail instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pydantic_core
from pydantic import BaseModel
from starlette.requests import HTTPConnection
from starlette.responses import Response

from brigade_common.problems import BadRequest, Conflict, Unprocessable

if TYPE_CHECKING:
    import asyncpg

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
DEFAULT_TTL_S = 24 * 3600

IDEMPOTENCY_DDL = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    principal   text        NOT NULL,
    key         text        NOT NULL,
    method      text        NOT NULL,
    path        text        NOT NULL,
    fingerprint text        NOT NULL,
    status      int,
    response    jsonb,
    resource_id text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
"""


@dataclass(frozen=True)
class StoredResponse:
    """The outcome recorded for a key: replay it instead of doing the work again."""

    status: int
    response: Any
    resource_id: str | None


def read_idempotency_key(request: HTTPConnection, *, required: bool = False) -> str | None:
    """The request's `Idempotency-Key` (1 to 255 printable ASCII characters), else a 400 naming the header.
    Absent: None, or a 400 when `required`."""
    value = request.headers.get(HEADER)
    if value is None:
        if required:
            raise BadRequest(f"this endpoint requires an {HEADER} header", field=HEADER, type="idempotency-key-missing")
        return None
    if not 1 <= len(value) <= MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in value):
        raise BadRequest(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            field=HEADER,
            type="invalid-idempotency-key",
        )
    return value


def _canonical(body: Any) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True)
    if isinstance(body, bytes | bytearray | str):
        try:
            return json.loads(body)
        except ValueError:
            raw = body.encode() if isinstance(body, str) else bytes(body)
            return {"sha256": hashlib.sha256(raw).hexdigest()}
    return json.loads(pydantic_core.to_json(body))


def fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 (hex) of the method, path and body as canonical JSON (sorted keys, no whitespace).

    `body` may be raw bytes/str (parsed as JSON when it is JSON, so key order and spacing do not
    matter), a pydantic model (defaults included: prefer it, so `{}` and `{"note": null}` agree) or
    plain data.
    """
    document = {"method": method.upper(), "path": path, "body": _canonical(body)}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def claim(
    conn: asyncpg.Connection, *, principal: str, key: str, method: str, path: str, fingerprint: str
) -> StoredResponse | None:
    """Claim `key` for this request inside the caller's transaction.

    None: the key is new and now ours; do the work, then `store` the result before committing.
    A `StoredResponse`: this exact request already succeeded; replay it. A key reused for a
    different request raises 422 `idempotency-key-reused`; a key whose first request committed
    without a stored result raises 409 `idempotency-key-in-progress`.
    """
    inserted = await conn.fetchval(
        """
        INSERT INTO idempotency_keys (principal, key, method, path, fingerprint)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (principal, key) DO NOTHING
        RETURNING true
        """,
        principal,
        key,
        method.upper(),
        path,
        fingerprint,
    )
    if inserted:
        return None
    # The INSERT waited for any transaction holding the key; what it committed is visible now.
    row = await conn.fetchrow(
        """
        SELECT method, path, fingerprint, status, response::text AS response, resource_id
        FROM idempotency_keys WHERE principal = $1 AND key = $2
        """,
        principal,
        key,
    )
    if row is None:  # purged between the two statements: treat as never seen
        return await claim(conn, principal=principal, key=key, method=method, path=path, fingerprint=fingerprint)
    if (row["method"], row["path"], row["fingerprint"]) != (method.upper(), path, fingerprint):
        raise Unprocessable(
            f"this {HEADER} was already used for a different request",
            field=HEADER,
            type="idempotency-key-reused",
            title="Idempotency Key Reused",
        )
    if row["status"] is None:
        raise Conflict(
            f"a request with this {HEADER} is still in progress", field=HEADER, type="idempotency-key-in-progress"
        )
    response = json.loads(row["response"]) if row["response"] is not None else None
    return StoredResponse(status=row["status"], response=response, resource_id=row["resource_id"])


async def store(
    conn: asyncpg.Connection,
    *,
    principal: str,
    key: str,
    status: int,
    response: Any,
    resource_id: str | None = None,
) -> None:
    """Record the result for a claimed key, in the same transaction as the write it describes.
    `response` is a pydantic model or JSON-able data (it is replayed as the JSON body)."""
    body = pydantic_core.to_json(response, by_alias=True).decode() if response is not None else None
    updated = await conn.execute(
        """
        UPDATE idempotency_keys SET status = $3, response = ($4::text)::jsonb, resource_id = $5
        WHERE principal = $1 AND key = $2
        """,
        principal,
        key,
        status,
        body,
        resource_id,
    )
    if updated != "UPDATE 1":
        raise RuntimeError(f"store() for an unclaimed {HEADER} {key!r}: call claim() first")


def replay_response(stored: StoredResponse, headers: dict[str, str] | None = None) -> Response:
    """The stored response again, marked with `Idempotent-Replayed: true`."""
    body = pydantic_core.to_json(stored.response) if stored.response is not None else b""
    return Response(
        body,
        status_code=stored.status,
        headers={**(headers or {}), "Idempotent-Replayed": "true"},
        media_type="application/json" if stored.response is not None else None,
    )


async def purge_expired(conn: asyncpg.Connection, older_than_s: float = DEFAULT_TTL_S) -> int:
    """Delete keys older than `older_than_s` seconds (24 h by default); returns how many went."""
    result = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
        float(older_than_s),
    )
    return int(result.split()[-1])
