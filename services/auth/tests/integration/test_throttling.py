"""Sign-in throttling: per account and per client address, counted in PostgreSQL, so replicas share it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from brigade_auth.bootstrap import create_app
from brigade_auth.config import SCHEMA
from brigade_common.testing.inprocess import in_process
from brigade_common.testing.waiting import eventually
from services.auth.tests.integration.harness import BASE_URL, PASSWORD, AuthClient

WINDOW_S = 1.5


@pytest.fixture
def auth_settings() -> dict[str, object]:
    return {"signin_window_s": WINDOW_S, "signin_account_limit": 3, "signin_address_limit": 6}


@pytest.fixture
async def replica(auth: AuthClient) -> AsyncIterator[AuthClient]:
    """A second auth process on the same database, hashing with stronger parameters."""
    settings = auth.settings.model_copy(update={"argon2_time_cost": 3})
    async with in_process(
        create_app(settings), BASE_URL, auth.settings.database_url.get_secret_value(), auth.settings.nats_url, SCHEMA
    ) as app:
        yield AuthClient(app, settings, dict(auth.passwords))


async def test_a_burst_of_wrong_passwords_is_throttled_on_every_replica_until_the_window_ends(
    auth: AuthClient, replica: AuthClient
) -> None:
    await auth.sign_up("ana@example.com")
    burst = await asyncio.gather(*(auth.sign_in("ana@example.com", f"wrong password {i}") for i in range(5)))
    assert sorted(r.status_code for r in burst) == [401, 401, 401, 429, 429]
    refused = next(r for r in burst if r.status_code == 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    assert refused.json()["type"].endswith("/too-many-attempts")

    # The other replica counts in the same rows: the right password waits out the window there too.
    assert (await replica.sign_in("ana@example.com", PASSWORD)).status_code == 429

    async def signed_in() -> bool:
        return (await replica.sign_in("ana@example.com", PASSWORD)).status_code == 200

    await eventually(signed_in, 10 * WINDOW_S, "the right password works after the window")
    # That replica hashes with t=3: the password was rehashed at this sign-in.
    stored = await auth.db.fetchval("SELECT password_hash FROM users WHERE email = 'ana@example.com'")
    assert ",t=3," in stored
    assert (await auth.sign_in("ana@example.com", PASSWORD)).status_code == 200


# A window no slow machine outlasts: all seven guesses fall in it, however long their hashes take.
@pytest.mark.parametrize(
    "auth_settings", [{"signin_window_s": 600.0, "signin_account_limit": 3, "signin_address_limit": 6}]
)
async def test_one_address_trying_many_accounts_is_throttled_but_its_sign_ins_are_not_counted(
    auth: AuthClient,
) -> None:
    await auth.sign_up("bea@example.com")
    for _ in range(8):  # successful sign-ins are forgiven: the limit bounds guesses
        assert (await auth.sign_in("bea@example.com", PASSWORD)).status_code == 200
    statuses = [(await auth.sign_in(f"guess{i}@example.com", "some password")).status_code for i in range(7)]
    assert statuses == [401] * 6 + [429]
    assert (await auth.sign_in("bea@example.com", PASSWORD)).status_code == 429
