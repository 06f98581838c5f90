"""The web service, declared once for its process and for the service catalog (brigade_common.catalog).

It serves the single-page app at `/` and, locally, is the gateway that routes every other
service's prefixes from the route table; it uses neither NATS nor tokens. Tools import this module,
so the app is imported only when the process serves.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from brigade_common.service import Route, ServiceDefinition
from brigade_web.config import SERVICE, Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _app(settings: Settings) -> Starlette:
    from brigade_web.app import build_app

    # One line per proxied request is the access log already; httpx's own would repeat it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return build_app(settings)


WEB = ServiceDefinition(SERVICE, Settings, _app, routes=(Route("/"),), gateway=True, nats=False)
