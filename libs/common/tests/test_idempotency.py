"""Idempotency keys against real PostgreSQL: claim, replay, reuse, concurrency, purge, and a real route."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from brigade_common.db import create_pool
from brigade_common.http import create_app, json_response, parse_json
from brigade_common.idempotency import (
    IDEMPOTENCY_DDL,
    StoredResponse,
    claim,
    fingerprint,
    purge_expired,
    read_idempotency_key,
    replay_response,
    store,
)
from brigade_common.problems import BadRequest, Conflict, Unprocessable

PATH = "/api/kitchen/orders"


class PlaceOrder(BaseModel):
    dish_id: str
    quantity: int = Field(gt=0)
    note: str | None = None


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool whose schema holds the idempotency table (as a service's first migration makes it)."""
    admin = await asyncpg.connect(database_url)
    await admin.execute("CREATE SCHEMA kitchen")
    await admin.close()
    pool = await create_pool(database_url, "kitchen", max_size=4)
    async with pool.acquire() as conn:
        await conn.execute(IDEMPOTENCY_DDL)
        await conn.execute("CREATE TABLE orders (id text PRIMARY KEY, quantity int NOT NULL)")
    yield pool
    await pool.close()


FP = fingerprint("POST", PATH, PlaceOrder(dish_id="d1", quantity=2))


async def test_a_new_key_is_claimed_then_replayed_with_the_stored_response(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn, conn.transaction():
        assert await claim(conn, principal="alice", key="k1", method="POST", path=PATH, fingerprint=FP) is None
        await store(
            conn, principal="alice", key="k1", status=201, response={"id": "o1", "quantity": 2}, resource_id="o1"
        )
    async with db.acquire() as conn, conn.transaction():
        stored = await claim(conn, principal="alice", key="k1", method="post", path=PATH, fingerprint=FP)
    assert stored == StoredResponse(status=201, response={"id": "o1", "quantity": 2}, resource_id="o1")
    # Keys are per principal: bob's "k1" is another key.
    async with db.acquire() as conn, conn.transaction():
        assert await claim(conn, principal="bob", key="k1", method="POST", path=PATH, fingerprint=FP) is None


async def test_a_rolled_back_claim_leaves_no_trace(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await claim(conn, principal="alice", key="k1", method="POST", path=PATH, fingerprint=FP)
        await tx.rollback()  # the write failed
        async with conn.transaction():
            assert await claim(conn, principal="alice", key="k1", method="POST", path=PATH, fingerprint=FP) is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", PATH, PlaceOrder(dish_id="d1", quantity=3)),
        ("PUT", PATH, PlaceOrder(dish_id="d1", quantity=2)),
        ("POST", PATH + "/other", PlaceOrder(dish_id="d1", quantity=2)),
    ],
    ids=["other-body", "other-method", "other-path"],
)
async def test_a_key_reused_for_another_request_is_a_422(
    db: asyncpg.Pool, method: str, path: str, body: PlaceOrder
) -> None:
    async with db.acquire() as conn, conn.transaction():
        await claim(conn, principal="alice", key="k1", method="POST", path=PATH, fingerprint=FP)
        await store(conn, principal="alice", key="k1", status=201, response={"id": "o1"}, resource_id="o1")
    async with db.acquire() as conn, conn.transaction():
        with pytest.raises(Unprocessable) as info:
            await claim(
                conn, principal="alice", key="k1", method=method, path=path, fingerprint=fingerprint(method, path, body)
            )
    assert info.value.type == "https://brigade.dev/problems/idempotency-key-reused"
    assert info.value.errors[0]["field"] == "Idempotency-Key"


async def test_a_claim_committed_without_a_result_is_in_progress(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await claim(conn, principal="alice", key="k1", method="POST", path=PATH, fingerprint=FP)
        with pytest.raises(Conflict):
            await claim(conn, principal="alice", key="k1", method="POST", path=PATH, fingerprint=FP)


async def wait_until_blocked_on_a_lock(db: asyncpg.Pool, pid: int) -> None:
    """Wait (by polling the server's own view, not a fixed sleep) until `pid` waits for a lock."""
    deadline = asyncio.get_running_loop().time() + 10
    while await db.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid) != "Lock":
        assert asyncio.get_running_loop().time() < deadline, "the second claim never waited"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("first_commits", [True, False], ids=["first-commits", "first-rolls-back"])
async def test_concurrent_identical_requests_serialise_on_the_key(db: asyncpg.Pool, first_commits: bool) -> None:
    first = await db.acquire()
    second = await db.acquire()
    try:
        tx1 = first.transaction()
        await tx1.start()
        assert await claim(first, principal="alice", key="k1", method="POST", path=PATH, fingerprint=FP) is None
        await first.execute("INSERT INTO orders VALUES ('o1', 2)")

        async def second_request() -> StoredResponse | None:
            async with second.transaction():
                return await claim(second, principal="alice", key="k1", method="POST", path=PATH, fingerprint=FP)

        racing = asyncio.create_task(second_request())
        await wait_until_blocked_on_a_lock(db, second.get_server_pid())
        assert not racing.done()
        if first_commits:
            await store(first, principal="alice", key="k1", status=201, response={"id": "o1"}, resource_id="o1")
            await tx1.commit()
            assert await racing == StoredResponse(status=201, response={"id": "o1"}, resource_id="o1")
        else:
            await tx1.rollback()
            assert await racing is None  # the key was never taken: the second request does the work
    finally:
        await db.release(first)
        await db.release(second)
    assert await db.fetchval("SELECT count(*) FROM orders") == (1 if first_commits else 0)


async def test_purge_expired_removes_only_old_keys(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        for key in ("old", "new"):
            await claim(conn, principal="alice", key=key, method="POST", path=PATH, fingerprint=FP)
        await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'")
        assert await purge_expired(conn) == 1
        assert await conn.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["new"]
        assert await purge_expired(conn, older_than_s=0) == 1


def test_fingerprints_are_canonical() -> None:
    a = fingerprint("post", PATH, b'{"quantity": 2, "dish_id": "d1"}')
    assert a == fingerprint("POST", PATH, '{"dish_id":"d1","quantity":2}')
    assert a == fingerprint("POST", PATH, {"dish_id": "d1", "quantity": 2})
    assert a != fingerprint("POST", PATH, b'{"dish_id": "d1", "quantity": 3}')
    assert a != fingerprint("PUT", PATH, b'{"dish_id": "d1", "quantity": 2}')
    # Models include defaults, so an omitted optional field and an explicit null agree.
    m = fingerprint("POST", PATH, PlaceOrder.model_validate_json(b'{"dish_id": "d1", "quantity": 2}'))
    assert m == fingerprint("POST", PATH, PlaceOrder(dish_id="d1", quantity=2, note=None))
    assert fingerprint("POST", PATH, b"\x00not json") != fingerprint("POST", PATH, b"\x01not json")
    assert len(a) == 64


# ------------------------------------------------------------------------------ through a real route


def make_app(pool: asyncpg.Pool) -> Starlette:
    async def place_order(request: Request) -> Response:
        key = read_idempotency_key(request, required=True)
        assert key is not None
        body = await parse_json(request, PlaceOrder)
        async with pool.acquire() as conn, conn.transaction():
            stored = await claim(
                conn,
                principal="alice",
                key=key,
                method="POST",
                path=request.url.path,
                fingerprint=fingerprint("POST", request.url.path, body),
            )
            if stored is not None:
                return replay_response(stored, headers={"Location": f"{PATH}/{stored.resource_id}"})
            order_id = uuid.uuid4().hex
            await conn.execute("INSERT INTO orders VALUES ($1, $2)", order_id, body.quantity)
            out = {"id": order_id, "quantity": body.quantity}
            await store(conn, principal="alice", key=key, status=201, response=out, resource_id=order_id)
        return json_response(out, status=201, headers={"Location": f"{PATH}/{order_id}"})

    return create_app(service="kitchen", routes=[Route(PATH, place_order, methods=["POST"])])


async def test_a_retried_request_replays_the_first_answer(db: asyncpg.Pool) -> None:
    transport = httpx.ASGITransport(app=make_app(db))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        headers = {"Idempotency-Key": "order-1"}
        first = await c.post(PATH, json={"dish_id": "d1", "quantity": 2}, headers=headers)
        again = await c.post(PATH, json={"quantity": 2, "dish_id": "d1"}, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        reused = await c.post(PATH, json={"dish_id": "d1", "quantity": 5}, headers=headers)
        assert reused.status_code == 422
        assert reused.json()["type"] == "https://brigade.dev/problems/idempotency-key-reused"
        missing = await c.post(PATH, json={"dish_id": "d1", "quantity": 2})
        assert missing.status_code == 400
        assert missing.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await db.fetchval("SELECT count(*) FROM orders") == 1


@pytest.mark.parametrize("value", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_bad_keys_are_a_400_naming_the_header(value: str) -> None:
    raw = value.encode("latin-1")
    request = Request({"type": "http", "headers": [(b"idempotency-key", raw)]})
    with pytest.raises(BadRequest) as info:
        read_idempotency_key(request)
    assert info.value.errors[0]["field"] == "Idempotency-Key"


def test_good_and_absent_keys() -> None:
    key = str(uuid.uuid4())
    assert read_idempotency_key(Request({"type": "http", "headers": [(b"idempotency-key", key.encode())]})) == key
    assert read_idempotency_key(Request({"type": "http", "headers": []})) is None
