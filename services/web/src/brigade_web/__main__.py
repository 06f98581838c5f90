"""`python -m brigade_web api` — the only place that reads settings."""

from __future__ import annotations

import logging
import sys

from brigade_common.cli import main, serve
from brigade_common.logging import configure_logging
from brigade_web.config import SERVICE, Settings


def api() -> None:
    """Serve the single-page app and route /api/<service> to the services."""
    from brigade_web.app import build_app

    settings = Settings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per proxied request is the access log
    serve(lambda: build_app(settings), host=settings.http_host, port=settings.http_port, log_level=settings.log_level)


if __name__ == "__main__":
    sys.exit(main({"api": api}))
