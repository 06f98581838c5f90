"""`Idempotency-Key`: the same request sent twice has one effect, and the second gets the first's result.

A use case that accepts a key claims it inside the transaction that performs the write, naming the
resource the write creates:

    earlier = await claim_key(session, IdempotencyKey(principal, key, fingerprint), resource_id=order_id)
    if earlier is not None:
        ... replay: the resource `earlier` was created by the first request ...

The key row and the write commit (or roll back) together, in one statement. Two concurrent requests
with one key serialise on the primary key: the second waits for the first transaction, then replays
its resource (or, if the first rolled back, does the work itself). A key reused for a different
request raises `IdempotencyKeyReused`. Keys expire after `DEFAULT_TTL_S` (24 hours): an expired key
counts as new, and `purge_expired` deletes them (the runtime runs it periodically).

Use READ COMMITTED (PostgreSQL's default): under REPEATABLE READ the second request would fail instead.

Work that outlives one transaction (a charge through a payment provider: a transaction before the
call, one after) keeps the first request's *result* instead, under Stripe's rules: `begin_key`
claims the key in the first transaction; `complete_key` stores what the request ended with (a JSON
document the service replays its response from) in the last one; a request with the key while the
first is still running raises `RequestInProgress`; `release_key` gives the key up when the request
failed in a way a retry may cure (the retry then runs anew). The table needs two more columns for
this (`IDEMPOTENCY_RESULTS_DDL`, run after `IDEMPOTENCY_DDL`); `claim_key` ignores them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pydantic_core
from pydantic import BaseModel

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
    resource_id text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
"""
# For `begin_key`: what the first request ended with, and when (NULL while it is still running).
IDEMPOTENCY_RESULTS_DDL = """
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS result jsonb;
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS completed_at timestamptz;
CREATE INDEX IF NOT EXISTS idempotency_keys_unfinished ON idempotency_keys (resource_id) WHERE completed_at IS NULL;
"""


class Queries(Protocol):
    """What the store needs of a connection (an asyncpg connection, or a unit of work's session)."""

    async def fetchval(self, query: str, *args: Any) -> Any: ...

    async def fetchrow(self, query: str, *args: Any) -> Any: ...

    async def execute(self, query: str, *args: Any) -> str: ...


class IdempotencyKeyReused(Exception):
    """The key was used before for a different request (another method, path or body)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"this {HEADER} was already used for a different request")
        self.key = key


class RequestInProgress(Exception):
    """The first request with this key has not finished yet: retry once it has."""

    def __init__(self, key: str) -> None:
        super().__init__(f"a request with this {HEADER} is still being processed; retry shortly")
        self.key = key


@dataclass(frozen=True)
class Replay:
    """The first request with the key finished: the resource it created and what it ended with."""

    resource_id: str
    result: dict[str, Any]


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key for one request: whose it is, the key, and what the request was."""

    principal: str
    key: str
    method: str
    path: str
    fingerprint: str


def valid_key(value: str) -> bool:
    """1 to 255 printable ASCII characters."""
    return 1 <= len(value) <= MAX_KEY_LENGTH and all(" " <= ch <= "~" for ch in value)


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


# The claim itself, for a statement of its own (`claim_key`) or inside a larger one (a CTE, its
# parameters first: `claim_args`): `claimed` is true when the key is new (or had expired) and is
# now this request's, no row when it belongs to an earlier request (then `earlier_claim`).
_TAKE_OVER_EXPIRED = """
ON CONFLICT (principal, key) DO UPDATE
    SET method = EXCLUDED.method, path = EXCLUDED.path, fingerprint = EXCLUDED.fingerprint,
        resource_id = EXCLUDED.resource_id, created_at = now()
    WHERE idempotency_keys.created_at < now() - make_interval(secs => {ttl})
"""
CLAIM_SQL = f"""
INSERT INTO idempotency_keys (principal, key, method, path, fingerprint, resource_id)
VALUES ($1, $2, $3, $4, $5, $6)
{_TAKE_OVER_EXPIRED.format(ttl="$7")}
RETURNING true AS claimed
"""  # noqa: S608 - the text is code's, values are parameters
CLAIM_PARAMS = 7


def claims_sql(source: str, ttl: str) -> str:
    """The claim of several keys in one statement (a CTE of a larger one): the rows of `source`
    (`principal, key, method, path, fingerprint, resource_id`, one key once), `ttl` the parameter of
    `claim_args`'s last. It returns the `resource_id` of each key it claimed; a key it did not is an
    earlier request's (`earlier_claim`). Keys are claimed in one order, so two such statements that
    share keys wait for each other rather than deadlock."""
    return f"""
INSERT INTO idempotency_keys (principal, key, method, path, fingerprint, resource_id)
SELECT principal, key, method, path, fingerprint, resource_id FROM {source} ORDER BY principal, key
{_TAKE_OVER_EXPIRED.format(ttl=ttl)}
RETURNING resource_id
"""  # noqa: S608 - `source` names a CTE of the caller's statement, values are parameters


def claim_args(key: IdempotencyKey, resource_id: str, ttl_s: float = DEFAULT_TTL_S) -> tuple[Any, ...]:
    """The parameters of `CLAIM_SQL` ($1 to $7)."""
    return (key.principal, key.key, key.method.upper(), key.path, key.fingerprint, resource_id, float(ttl_s))


async def claim_key(db: Queries, key: IdempotencyKey, *, resource_id: str, ttl_s: float = DEFAULT_TTL_S) -> str | None:
    """Claim `key` for a request that creates `resource_id`, inside the caller's transaction.

    None: the key is new (or had expired) and is now this request's; do the work. Otherwise the id
    of the resource the first request with this key created: replay it. `IdempotencyKeyReused`
    when the key belongs to a different request.
    """
    if await db.fetchval(CLAIM_SQL, *claim_args(key, resource_id, ttl_s)):
        return None
    return await earlier_claim(db, key, resource_id=resource_id, ttl_s=ttl_s)


async def earlier_claim(
    db: Queries, key: IdempotencyKey, *, resource_id: str, ttl_s: float = DEFAULT_TTL_S
) -> str | None:
    """After `CLAIM_SQL` claimed nothing: the resource the first request with `key` created (or
    None, the key claimed after all, when it was purged in between); `IdempotencyKeyReused` when
    the key belongs to a different request."""
    # The INSERT waited for any transaction holding the key; what it committed is visible now.
    row = await db.fetchrow(
        "SELECT method, path, fingerprint, resource_id FROM idempotency_keys WHERE principal = $1 AND key = $2",
        key.principal,
        key.key,
    )
    if row is None:  # purged between the two statements: it counts as never seen
        return await claim_key(db, key, resource_id=resource_id, ttl_s=ttl_s)
    if (row["method"], row["path"], row["fingerprint"]) != (key.method.upper(), key.path, key.fingerprint):
        raise IdempotencyKeyReused(key.key)
    earlier: str = row["resource_id"]
    return earlier


async def purge_expired(db: Queries, older_than_s: float = DEFAULT_TTL_S) -> int:
    """Delete keys older than `older_than_s` seconds (24 h by default); returns how many went."""
    result = await db.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
        float(older_than_s),
    )
    return int(result.split()[-1])


async def begin_key(
    db: Queries, key: IdempotencyKey, *, resource_id: str, ttl_s: float = DEFAULT_TTL_S
) -> Replay | None:
    """Claim `key` for a request whose work spans several transactions, in the first one.

    None: the key is new (or had expired) and is now this request's; do the work, then
    `complete_key` (or `release_key`). `Replay` when the first request with the key has completed;
    `RequestInProgress` while it runs (its first transaction committed, its last did not);
    `IdempotencyKeyReused` when the key belongs to a different request. A second request waits on
    the first's first transaction (the primary key), never on the whole work.
    """
    inserted = await db.fetchval(
        """
        INSERT INTO idempotency_keys (principal, key, method, path, fingerprint, resource_id)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (principal, key) DO UPDATE
            SET method = EXCLUDED.method, path = EXCLUDED.path, fingerprint = EXCLUDED.fingerprint,
                resource_id = EXCLUDED.resource_id, created_at = now(), result = NULL, completed_at = NULL
            WHERE idempotency_keys.created_at < now() - make_interval(secs => $7)
        RETURNING true
        """,
        key.principal,
        key.key,
        key.method.upper(),
        key.path,
        key.fingerprint,
        resource_id,
        float(ttl_s),
    )
    if inserted:
        return None
    row = await db.fetchrow(
        "SELECT method, path, fingerprint, resource_id, result::text AS result, completed_at "
        "FROM idempotency_keys WHERE principal = $1 AND key = $2",
        key.principal,
        key.key,
    )
    if row is None:  # purged or released between the two statements: it counts as never seen
        return await begin_key(db, key, resource_id=resource_id, ttl_s=ttl_s)
    if (row["method"], row["path"], row["fingerprint"]) != (key.method.upper(), key.path, key.fingerprint):
        raise IdempotencyKeyReused(key.key)
    if row["completed_at"] is None:
        raise RequestInProgress(key.key)
    return Replay(row["resource_id"], json.loads(row["result"]))


async def complete_key(db: Queries, resource_id: str, result: Mapping[str, Any]) -> None:
    """The request that `begin_key` claimed a key for, naming `resource_id`, has ended with `result`
    (JSON): later requests with the key replay it. Call it in the transaction that records the
    outcome. By resource, so that whoever finishes the work (the request, or a job that settles
    work a crashed process left) need not know the key."""
    await db.execute(
        "UPDATE idempotency_keys SET result = $2::text::jsonb, completed_at = now() "
        "WHERE resource_id = $1 AND completed_at IS NULL",
        resource_id,
        json.dumps(result, sort_keys=True, default=str),
    )


async def release_key(db: Queries, resource_id: str) -> None:
    """Give up the key claimed for `resource_id` while its request is unfinished, because it failed
    in a way a retry may cure (a provider briefly unavailable): the next request with it runs anew."""
    await db.execute("DELETE FROM idempotency_keys WHERE resource_id = $1 AND completed_at IS NULL", resource_id)
