"""The notifications service, declared once for its process and for the service catalog
(brigade_common.catalog). Tools import this module, so it stays light: the app is imported only
when it is built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brigade_common.service import Route, ServiceDefinition
from brigade_contracts import streams
from brigade_notifications.config import MIGRATIONS_DIR, SCHEMA, SERVICE, Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _app(settings: Settings) -> Starlette:
    from brigade_notifications.bootstrap import create_app

    return create_app(settings)


NOTIFICATIONS = ServiceDefinition(
    SERVICE,
    Settings,
    _app,
    routes=(Route("/api/notifications"),),
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    streams=(streams.NOTIFICATIONS, streams.AUTH, streams.KITCHEN, streams.PAYMENTS, streams.DLQ),
    consumers=("notifications-users", "notifications-orders", "notifications-dishes", "notifications-payments"),
)
