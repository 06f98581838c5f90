from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from brigade_common.devservers import free_port
from brigade_common.testing.inprocess import TestKeys
from services.notifications.tests.integration.harness import Publisher, Service, migrate, running
from services.notifications.tests.integration.smtp_server import SmtpCatcher


@pytest.fixture
def notifications_settings() -> dict[str, object]:
    return {}


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpCatcher]:
    """A real SMTP server on a port of its own, running for the test."""
    catcher = await SmtpCatcher(free_port()).start()
    yield catcher
    await catcher.stop()


@pytest.fixture
def publisher(nats_url: str) -> Publisher:
    return Publisher(nats_url)


@pytest.fixture
async def service(
    database_url: str, nats_url: str, smtp: SmtpCatcher, notifications_settings: dict[str, object]
) -> AsyncIterator[Service]:
    """The service in-process on real PostgreSQL and NATS, sending to `smtp`."""
    await migrate(database_url)
    settings = {"smtp_port": smtp.port, **notifications_settings}
    async with running(database_url, nats_url, TestKeys(), **settings) as svc:
        yield svc
