"""The end-to-end stack (tests/e2e): real PostgreSQL, nats-server and services, here with the auth
service's keys trusted everywhere (the load signs up and in through it) and a staff account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.conftest import db, overrides, pytest_runtest_makereport
from tests.e2e.harness import Stack, running
from tests.load.stack import signing_in_through_auth

__all__ = ["db", "overrides", "pytest_runtest_makereport", "stack"]


@pytest.fixture
async def stack(database_url: str, nats_url: str, tmp_path: Path, overrides: dict[str, str]) -> AsyncIterator[Stack]:
    s = signing_in_through_auth(Stack(database_url, nats_url, tmp_path, dict(overrides)))
    try:
        async with running(s):
            yield s
    finally:
        print(s.logs())
