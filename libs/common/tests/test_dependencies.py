"""Transient or not: what `unavailable` calls a dependency outage, from real client errors."""

from __future__ import annotations

import asyncpg
import nats
import nats.errors
import pytest

from brigade_common.dependencies import DATABASE, NATS, unavailable
from brigade_common.devservers import free_port


async def test_a_refused_database_connection_is_the_database_being_down() -> None:
    with pytest.raises(ConnectionRefusedError) as refused:
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", timeout=2)
    assert unavailable(refused.value) == DATABASE


async def test_a_request_nobody_answers_is_nats_being_unavailable(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        with pytest.raises(nats.errors.NoRespondersError) as nobody:
            await nc.request("market.buy.nobody", b"{}", timeout=2)
    finally:
        await nc.close()
    assert unavailable(nobody.value) == NATS


def raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    try:
        raise exc from cause
    except BaseException as caught:
        return caught


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"), DATABASE),
        (asyncpg.CannotConnectNowError("the database system is starting up"), DATABASE),
        (asyncpg.AdminShutdownError("terminating connection due to administrator command"), DATABASE),
        (asyncpg.TooManyConnectionsError("sorry, too many clients already"), DATABASE),
        (asyncpg.InterfaceError("cannot perform operation: connection is closed"), DATABASE),
        (asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"), DATABASE),
        (nats.errors.TimeoutError(), NATS),
        (nats.errors.ConnectionClosedError(), NATS),
        (nats.errors.NoRespondersError(), NATS),
        # Failures a retry cannot cure are not outages.
        (asyncpg.UniqueViolationError("duplicate key value"), None),
        (asyncpg.CheckViolationError("violates check constraint"), None),
        (asyncpg.InterfaceError("cannot call Connection.fetch(): connection has been released back to the pool"), None),
        (ValueError("bad value"), None),
        (ConnectionRefusedError(111, "Connection refused"), None),  # from no client library: unknown
    ],
)
def test_outages_and_failures_of_another_kind(error: BaseException, dependency: str | None) -> None:
    assert unavailable(error) == dependency


def test_a_wrapped_outage_is_still_an_outage() -> None:
    inner = asyncpg.ConnectionDoesNotExistError("connection was closed")
    assert unavailable(raised(RuntimeError("the use case failed"), inner)) == DATABASE
    assert unavailable(raised(RuntimeError("the use case failed"), ValueError())) is None
