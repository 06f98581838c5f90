"""`python -m brigade_market api`."""

from __future__ import annotations

import sys

from brigade_common.service import ServiceDefinition, run
from brigade_market.config import SERVICE, Settings


def _app(settings: Settings):  # type: ignore[no-untyped-def]
    from brigade_market.app import create_app

    return create_app(settings)


MARKET = ServiceDefinition(SERVICE, Settings, _app)

if __name__ == "__main__":
    sys.exit(run(MARKET))
