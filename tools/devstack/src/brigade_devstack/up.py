"""`up`: checks that cannot wait (lock, leftovers, ports), then the stack in the foreground."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence

from brigade_common.catalog import CatalogError
from brigade_common.devservers import DevServerError, check_nats_version, nats_server_binary
from brigade_devstack.catalog import ServiceSpec, service_table
from brigade_devstack.console import Console
from brigade_devstack.errors import DevstackError
from brigade_devstack.infra import check_external_nats, prepare_home
from brigade_devstack.layout import Layout
from brigade_devstack.lockfile import StackLock
from brigade_devstack.pgdata import stop_stale_postgres
from brigade_devstack.ports import require_free
from brigade_devstack.registry import Registry
from brigade_devstack.stack import Stack, UpOptions
from brigade_devstack.stackconfig import StackConfig, resolve

READY_TIMEOUT_ENV = "BRIGADE_READY_TIMEOUT"


def _preflight(config: StackConfig, console: Console) -> None:
    """Everything that can fail before anything starts: skipped services, ports, NATS."""
    for spec, reason in config.skipped:
        console.warn(f"skipping {spec.name}: {reason}")
    require_free(config.port_claims())
    if config.external_nats_url:
        check_external_nats(config.external_nats_url)
    else:
        try:
            check_nats_version(nats_server_binary())
        except DevServerError as exc:
            raise DevstackError(str(exc)) from None


def _ready_timeout(environ: Mapping[str, str], default: float) -> float:
    raw = environ.get(READY_TIMEOUT_ENV)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise DevstackError(f"{READY_TIMEOUT_ENV} must be a number of seconds, got {raw!r}") from None


def up(
    table: Sequence[ServiceSpec] | None = None,
    environ: Mapping[str, str] | None = None,
    options: UpOptions | None = None,
) -> int:
    """Run the stack in the foreground (default: every service of the catalog); returns the exit code."""
    environ = os.environ if environ is None else environ
    options = options or UpOptions()
    options = UpOptions(_ready_timeout(environ, options.ready_timeout), options.grace, options.backoff)
    layout = Layout.discover()
    try:
        table = service_table() if table is None else table
    except CatalogError as exc:
        raise DevstackError(str(exc)) from None
    config = resolve(layout, table, environ)
    prepare_home(layout)
    console = Console(config.process_names, layout.logs)
    lock = StackLock(layout.run_dir / "devstack.lock")
    try:
        lock.acquire("starting it again")
        registry = Registry(layout.run_dir / "processes.json")
        for entry in registry.cleanup_stale():
            console.warn(f"stopped {entry.name} (pid {entry.pid}), left running by a previous run")
        stale_pg = stop_stale_postgres(layout.pg_data)
        if stale_pg:
            console.warn(f"stopped PostgreSQL (pid {stale_pg}), left running by a previous run")
        _preflight(config, console)
        return asyncio.run(Stack(config, console, registry, options, environ).run())
    except DevServerError as exc:
        raise DevstackError(str(exc)) from None
    finally:
        lock.release()
        console.close()
