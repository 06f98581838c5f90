"""The market, declared once for its process and for the service catalog (brigade_common.catalog).

It owns no schema, no stream and no consumer: `market.buy` is a NATS service (request-reply).
Tools import this module, so the app is imported only when the process serves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brigade_common.service import Route, ServiceDefinition
from brigade_market.config import SERVICE, Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _app(settings: Settings) -> Starlette:
    from brigade_market.app import create_app

    return create_app(settings)


MARKET = ServiceDefinition(SERVICE, Settings, _app, routes=(Route("/api/market"),))
