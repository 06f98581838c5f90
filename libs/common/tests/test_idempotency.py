"""Idempotency keys against real PostgreSQL: claim, replay, reuse, expiry, concurrency, purge, and a
real declared route."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from brigade_common.db import create_pool
from brigade_common.http import create_app, json_response
from brigade_common.idempotency import (
    IDEMPOTENCY_DDL,
    IdempotencyKey,
    IdempotencyKeyReused,
    claim_key,
    fingerprint,
    purge_expired,
)
from brigade_common.inputs import IDEMPOTENCY_KEY
from brigade_common.openapi import OpenAPI
from brigade_common.testing.waiting import eventually

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


def key(name: str = "k1", fp: str = FP, method: str = "POST", path: str = PATH) -> IdempotencyKey:
    return IdempotencyKey("alice", name, method, path, fp)


async def test_a_new_key_is_claimed_and_a_repeat_names_the_first_resource(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn, conn.transaction():
        assert await claim_key(conn, key(), resource_id="o1") is None
    async with db.acquire() as conn, conn.transaction():
        assert await claim_key(conn, key(), resource_id="o2") == "o1"
    other_principal = IdempotencyKey("bob", "k1", "POST", PATH, FP)
    async with db.acquire() as conn, conn.transaction():
        assert await claim_key(conn, other_principal, resource_id="o3") is None  # keys are per principal


async def test_a_rolled_back_claim_leaves_no_trace(db: asyncpg.Pool) -> None:
    with pytest.raises(RuntimeError):
        async with db.acquire() as conn, conn.transaction():
            await claim_key(conn, key(), resource_id="o1")
            raise RuntimeError("the write failed")
    async with db.acquire() as conn, conn.transaction():
        assert await claim_key(conn, key(), resource_id="o2") is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", PATH, PlaceOrder(dish_id="d1", quantity=3)),
        ("PUT", PATH, PlaceOrder(dish_id="d1", quantity=2)),
        ("POST", PATH + "/other", PlaceOrder(dish_id="d1", quantity=2)),
    ],
)
async def test_a_key_reused_for_another_request_is_refused(
    db: asyncpg.Pool, method: str, path: str, body: PlaceOrder
) -> None:
    async with db.acquire() as conn:
        await claim_key(conn, key(), resource_id="o1")
        with pytest.raises(IdempotencyKeyReused):
            await claim_key(conn, key(fp=fingerprint(method, path, body), method=method, path=path), resource_id="o2")


async def test_an_expired_key_counts_as_new(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await claim_key(conn, key(), resource_id="o1")
        await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        assert await claim_key(conn, key(fp="another body"), resource_id="o2") is None
        assert await claim_key(conn, key(fp="another body"), resource_id="o3") == "o2"


async def blocked_on_a_lock(db: asyncpg.Pool, pid: int) -> None:
    """Wait (on the server's own view, not a fixed sleep) until `pid` waits for a lock."""

    async def waiting() -> bool:
        return await db.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid) == "Lock"

    await eventually(waiting, 10, "the second claim waiting on the first")


@pytest.mark.parametrize("first_commits", [True, False], ids=["first-commits", "first-rolls-back"])
async def test_concurrent_identical_requests_serialise_on_the_key(db: asyncpg.Pool, first_commits: bool) -> None:
    first = await db.acquire()
    second = await db.acquire()
    try:
        tx1 = first.transaction()
        await tx1.start()
        assert await claim_key(first, key(), resource_id="o1") is None
        await first.execute("INSERT INTO orders VALUES ('o1', 2)")

        async def second_request() -> str | None:
            async with second.transaction():
                return await claim_key(second, key(), resource_id="o2")

        racing = asyncio.create_task(second_request())
        await blocked_on_a_lock(db, second.get_server_pid())
        assert not racing.done()
        if first_commits:
            await tx1.commit()
            assert await racing == "o1"
        else:
            await tx1.rollback()
            assert await racing is None  # the key was never taken: the second request does the work
    finally:
        await db.release(first)
        await db.release(second)
    assert await db.fetchval("SELECT count(*) FROM orders") == (1 if first_commits else 0)


async def test_purge_expired_removes_only_old_keys(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        for name in ("old", "new"):
            await claim_key(conn, key(name), resource_id=name)
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


def make_app(pool: asyncpg.Pool) -> object:
    api = OpenAPI(title="t", version="1")

    @api.route("POST", PATH, body=PlaceOrder, headers=[IDEMPOTENCY_KEY], responses={201: None})
    async def place_order(request: Request, *, body: PlaceOrder, idempotency_key: str | None) -> Response:
        order_id = uuid.uuid4().hex
        async with pool.acquire() as conn, conn.transaction():
            if idempotency_key is not None:
                k = IdempotencyKey("alice", idempotency_key, "POST", PATH, fingerprint("POST", PATH, body))
                earlier = await claim_key(conn, k, resource_id=order_id)
                if earlier is not None:
                    quantity = await conn.fetchval("SELECT quantity FROM orders WHERE id = $1", earlier)
                    out = {"id": earlier, "quantity": quantity}
                    return json_response(out, status=201, headers={"Idempotent-Replayed": "true"})
            await conn.execute("INSERT INTO orders VALUES ($1, $2)", order_id, body.quantity)
        return json_response({"id": order_id, "quantity": body.quantity}, status=201)

    return create_app(service="kitchen", openapi=api)


async def test_a_retried_request_replays_the_first_answer(db: asyncpg.Pool) -> None:
    transport = httpx.ASGITransport(app=make_app(db))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        headers = {"Idempotency-Key": "order-1"}
        first = await c.post(PATH, json={"dish_id": "d1", "quantity": 2}, headers=headers)
        again = await c.post(PATH, json={"quantity": 2, "dish_id": "d1"}, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        reused = await c.post(PATH, json={"dish_id": "d1", "quantity": 5}, headers=headers)
        assert reused.status_code == 422
        assert reused.json()["type"] == "https://brigade.dev/problems/idempotency-key-reused"
        assert reused.json()["errors"][0]["field"] == "Idempotency-Key"
        for bad in ("x" * 256, "tab\there", "caf\u00e9"):
            r = await c.post(PATH, json={"dish_id": "d1", "quantity": 2}, headers={"Idempotency-Key": bad.encode()})
            assert r.status_code == 400, bad
            assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await db.fetchval("SELECT count(*) FROM orders") == 1
