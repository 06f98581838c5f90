"""The live service, declared once for its process and for the service catalog (brigade_common.catalog).

It owns no schema and no durable consumer: it reads the streams of the services whose events it
relays, with consumers of its own that die with the process. Tools import this module, so the app is
imported only when the process serves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brigade_common.service import Route, ServiceDefinition
from brigade_contracts import streams
from brigade_live.config import SERVICE, Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _app(settings: Settings) -> Starlette:
    from brigade_live.bootstrap import create_app

    return create_app(settings)


LIVE = ServiceDefinition(
    SERVICE,
    Settings,
    _app,
    routes=(Route("/api/live", websocket=True),),
    streams=(streams.KITCHEN, streams.WAREHOUSE, streams.NOTIFICATIONS),
)
