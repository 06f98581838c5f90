"""structlog set-up: JSON in containers, readable on a terminal; context bound per request/message."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(service: str, fmt: str = "console", level: str = "INFO") -> None:
    """Configure structlog and the stdlib root logger once per process."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    # alembic.runtime.plugins: alembic logs each of its autogenerate plugins at INFO as it is imported,
    # forty lines in `make up`'s console for migrations that have nothing to do with autogenerate.
    for noisy in ("uvicorn.access", "nats", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # asyncpg's pool retries its minimum size every second while the database is down, each time with
    # a traceback of the refused connection; the outage is reported once by Brigade's own
    # `dependency_unavailable` line, so its line stays and its traceback goes.
    logging.getLogger("asyncpg.pool").addFilter(_without_traceback)


def _without_traceback(record: logging.LogRecord) -> bool:
    record.exc_info = None
    record.exc_text = None
    return True


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A structlog logger; `name` becomes the `logger` field."""
    log: structlog.stdlib.BoundLogger = structlog.get_logger(name) if name else structlog.get_logger()
    return log
