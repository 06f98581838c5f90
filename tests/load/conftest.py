"""The end-to-end stack fixtures (tests/e2e/conftest.py): real PostgreSQL, nats-server and services."""

from tests.e2e.conftest import db, overrides, pytest_runtest_makereport, stack

__all__ = ["db", "overrides", "pytest_runtest_makereport", "stack"]
