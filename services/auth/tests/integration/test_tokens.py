"""Tokens the auth service issues, refused and accepted where they must be: by auth itself and by a
running kitchen that verifies them with auth's keys over NATS, across a key rotation, no restart."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt

from brigade_auth.entrypoints.http import api
from brigade_common import commands, rpc
from brigade_common.catalog import load
from brigade_common.openapi import openapi_path
from brigade_common.testing.inprocess import in_process
from brigade_contracts.auth import JWKS, JwksReply, JwksRequest
from services.auth.tests.integration.conftest import ADMIN_EMAIL
from services.auth.tests.integration.forged import forged_tokens
from services.auth.tests.integration.harness import AuthClient

KITCHEN_ORDERS = "/api/kitchen/orders"


@asynccontextmanager
async def running_kitchen(auth: AuthClient) -> AsyncIterator[httpx.AsyncClient]:
    """The kitchen as the catalog declares it, with no key of its own: it asks auth over NATS."""
    kitchen = load().get("kitchen")
    url, nats_url = auth.settings.database_url.get_secret_value(), auth.settings.nats_url
    settings = kitchen.settings(database_url=url, nats_url=nats_url, order_wait_s=0)
    await asyncio.to_thread(commands.migrate, kitchen, url)
    await commands.seed(kitchen, settings, url)
    async with in_process(kitchen.app_factory(settings), "http://kitchen.test", url, nats_url, kitchen.schema) as app:
        yield app.http


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def rotate(auth: AuthClient) -> str:
    """`python -m brigade_auth keys rotate`, as an operator runs it; the new kid."""
    env = {**os.environ, "AUTH_DATABASE_URL": auth.settings.database_url.get_secret_value()}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "brigade_auth", "keys", "rotate", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out
    return out.decode().split()[3].rstrip(";")


async def test_after_a_key_rotation_old_and_new_tokens_both_work_in_a_running_kitchen(auth: AuthClient) -> None:
    await auth.sign_up("ana@example.com")
    old = await auth.token("ana@example.com")
    async with running_kitchen(auth) as kitchen:
        assert (await kitchen.get(KITCHEN_ORDERS, headers={"Authorization": f"Bearer {old}"})).status_code == 200

        new_kid = await rotate(auth)
        new = await auth.token("ana@example.com")
        assert kid_of(new) == new_kid != kid_of(old)
        for token in (new, old):  # the kitchen learns the new key on its own; the old one still counts
            r = await kitchen.get(KITCHEN_ORDERS, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            assert (
                await auth.http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
            ).status_code == 200

    published = {k["kid"] for k in (await auth.http.get("/.well-known/jwks.json")).json()["keys"]}
    assert published == {kid_of(old), new_kid}
    reply = await rpc.call(auth.app.nc, JWKS, JwksRequest(), JwksReply, timeout=2)
    assert {k["kid"] for k in reply.keys} == published


async def _status(client: httpx.AsyncClient, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body: dict[str, Any] | None = {"roles": ["customer"]} if method == "PATCH" else None
    return (await client.request(method, path, headers=headers, json=body)).status_code


async def test_forged_expired_and_misdirected_tokens_are_refused_on_every_secured_route(auth: AuthClient) -> None:
    """Every operation of auth's document that needs a token, and the kitchen's order routes: 401 for
    each bad token, 403 for the wrong role, 404 for someone else's order."""
    ana = await auth.sign_up("ana@example.com")
    bob = await auth.sign_up("bob@example.com")
    ana_token, bob_token = await auth.token("ana@example.com"), await auth.token("bob@example.com")
    auth.use_cookies()  # only the tokens under test sign these requests in
    key = await auth.db.fetchrow("SELECT kid, private_pem, public_jwk FROM signing_keys")
    assert key is not None
    forged = forged_tokens(ana_token, key["private_pem"], key["kid"], key["public_jwk"]["x"], ana["id"])
    secured = [(op.method, openapi_path(op.path).replace("{user_id}", bob["id"])) for op in api.operations if op.auth]
    assert len(secured) == 4  # a new secured route joins this test by being declared

    async with running_kitchen(auth) as kitchen:
        placed = await kitchen.post(
            KITCHEN_ORDERS, json={"dish_id": "pan-simple"}, headers={"Authorization": f"Bearer {bob_token}"}
        )
        assert placed.status_code in (201, 202), placed.text
        bobs_order = f"{KITCHEN_ORDERS}/{placed.json()['order_id']}"
        targets = [(auth.http, m, p) for m, p in secured] + [
            (kitchen, "GET", KITCHEN_ORDERS),
            (kitchen, "GET", bobs_order),
        ]
        for name, token in forged.items():
            for client, method, path in targets:
                assert await _status(client, method, path, token) == 401, f"{name}: {method} {path}"

        # A real token of the wrong person or role.
        assert await _status(kitchen, "GET", bobs_order, ana_token) == 404  # someone else's order
        assert await _status(kitchen, "GET", bobs_order, bob_token) == 200
        assert await _status(auth.http, "GET", "/api/auth/users", ana_token) == 403
        admin = await auth.token(ADMIN_EMAIL)
        auth.use_cookies()
        assert await _status(auth.http, "PATCH", f"/api/auth/users/{bob['id']}/role", ana_token) == 403
        assert await _status(auth.http, "PATCH", f"/api/auth/users/{uuid.uuid4()}/role", admin) == 404
