"""Pure parts of the supervisor: back-off, the service table and environments, console, ports."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import pytest

from brigade_devstack.backoff import CrashLoopBackOff
from brigade_devstack.catalog import ServiceSpec, service_table, unavailable_reason
from brigade_devstack.console import Console
from brigade_devstack.errors import DevstackError
from brigade_devstack.layout import Layout
from brigade_devstack.ports import PortClaim, conflicts
from brigade_devstack.stackconfig import resolve

LAYOUT = Layout(root=Path("/repo"), home=Path("/repo/.brigade"))


def test_backoff_doubles_up_to_the_cap_and_resets_after_a_long_run() -> None:
    backoff = CrashLoopBackOff()
    assert [backoff.next_delay(uptime=0.5) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.next_delay(uptime=59) == 30
    assert backoff.next_delay(uptime=60) == 1  # it had stayed up: a fresh crash, not a loop
    assert backoff.next_delay(uptime=1) == 2


def test_table_is_the_service_catalog() -> None:
    table = {s.name: s for s in service_table()}
    assert list(table) == sorted(table), "one row per service of the catalog, by name"
    kitchen = table["kitchen"]
    assert (kitchen.module, kitchen.port, kitchen.has_database, kitchen.env_prefix) == (
        "brigade_kitchen",
        8001,
        True,
        "KITCHEN_",
    )
    assert not table["market"].has_database
    # A schema without demo data (payments) is migrated and not seeded: it has no `seed` command.
    assert (kitchen.has_seed, table["payments"].has_database, table["payments"].has_seed) == (True, True, False)
    assert [s.name for s in table.values() if s.gateway] == ["web"]
    assert all(s.public for s in table.values()), "every service has a route"


def test_services_that_cannot_run_yet_are_skipped_with_a_reason() -> None:
    missing = ServiceSpec("payments", "brigade_payments_not_yet", 8005)
    assert unavailable_reason(missing) == "package brigade_payments_not_yet is not installed"
    assert unavailable_reason(ServiceSpec("json", "json", 1)) == "package json has no __main__ yet"
    config = resolve(LAYOUT, [missing], {})
    assert config.services == ()
    assert config.skipped == ((missing, "package brigade_payments_not_yet is not installed"),)


def test_environment_of_each_service() -> None:
    table = [
        ServiceSpec("auth", "a", 8004, has_database=True),
        ServiceSpec("kitchen", "k", 8001, has_database=True),
        ServiceSpec("market", "m", 8003),
        ServiceSpec("web", "w", 8080, gateway=True),
    ]
    environ = {"BRIGADE_PG_PORT": "6543", "MARKET_HTTP_PORT": "9003", "KITCHEN_LOG_FORMAT": "json", "PATH": "/bin"}
    config = resolve(LAYOUT, table, environ, unavailable=lambda spec: None)
    auth, kitchen, market, web = config.services
    assert market.port == 9003

    env = config.environment(kitchen, environ, demo_users='[{"email": "customer@example.com"}]')
    assert env["PATH"] == "/bin"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["KITCHEN_HTTP_HOST"] == "127.0.0.1"
    assert env["KITCHEN_HTTP_PORT"] == "8001"
    assert env["KITCHEN_NATS_URL"] == "nats://127.0.0.1:4222"
    assert env["KITCHEN_DATABASE_URL"] == "postgresql://postgres@127.0.0.1:6543/brigade"
    # No key file: the kitchen verifies tokens with the auth service's keys; only auth sees the users.
    assert not any("JWT" in name or "DEMO_USERS" in name for name in env)
    assert config.environment(auth, environ, demo_users="[]")["AUTH_DEMO_USERS"] == "[]"
    assert env["KITCHEN_LOG_FORMAT"] == "json"  # the developer's choice wins over the default

    assert "MARKET_DATABASE_URL" not in config.environment(market, environ, demo_users="[]")
    assert config.environment(market, environ, demo_users="[]")["MARKET_LOG_FORMAT"] == "console"

    web_env = config.environment(web, environ, demo_users="[]")
    assert json.loads(web_env["WEB_UPSTREAMS"]) == {
        "auth": "http://127.0.0.1:8004",
        "kitchen": "http://127.0.0.1:8001",
        "market": "http://127.0.0.1:9003",
    }
    assert web_env["WEB_ROUTES_FILE"] == "/repo/infra/helm/brigade/routes.yaml"
    assert web_env["WEB_STATIC_DIR"] == "/repo/services/web/frontend/dist"

    command = config.command(market, "api", environ, demo_users="[]")
    assert list(command.argv[1:]) == ["-m", "m", "api"]


def test_external_nats_replaces_the_local_server() -> None:
    config = resolve(LAYOUT, [], {"NATS_URL": "nats://10.0.0.5:4222"})
    assert config.nats_url == "nats://10.0.0.5:4222"
    assert [c.owner for c in config.port_claims()] == ["PostgreSQL", "the mail catcher"]


def test_a_nats_cluster_runs_on_consecutive_ports_with_every_stream_on_three_servers() -> None:
    config = resolve(
        LAYOUT, [], {"BRIGADE_NATS_NODES": "3", "BRIGADE_NATS_PORT": "4300", "BRIGADE_NATS_ROUTE_PORT": "6300"}
    )
    assert config.nats_url == "nats://127.0.0.1:4300,nats://127.0.0.1:4301,nats://127.0.0.1:4302"
    assert config.nats_route_ports == (6300, 6301, 6302)
    assert config.nats_replicas == 3
    claimed = [c.port for c in config.port_claims() if c.owner.startswith("nats-server")]
    assert claimed == [4300, 4301, 4302, 6300, 6301, 6302]
    assert resolve(LAYOUT, [], {}).nats_replicas == 1


@pytest.mark.parametrize("nodes", ["2", "4", "three", "0"])
def test_a_nats_cluster_has_an_odd_size_that_keeps_a_majority(nodes: str) -> None:
    with pytest.raises(DevstackError, match="BRIGADE_NATS_NODES must be one of 1, 3, 5"):
        resolve(LAYOUT, [], {"BRIGADE_NATS_NODES": nodes})


def test_bad_port_values_name_the_variable() -> None:
    with pytest.raises(DevstackError, match="BRIGADE_NATS_PORT must be a TCP port number"):
        resolve(LAYOUT, [], {"BRIGADE_NATS_PORT": "http"})


def test_port_conflicts_are_one_line_each() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        with socket.socket() as spare:
            spare.bind(("127.0.0.1", 0))
            free = spare.getsockname()[1]
        messages = conflicts(
            [
                PortClaim(taken, "kitchen", "KITCHEN_HTTP_PORT"),
                PortClaim(free, "market", "MARKET_HTTP_PORT"),
                PortClaim(free, "web", "WEB_HTTP_PORT"),
            ]
        )
    assert messages == [
        f"port {taken} is already in use, but kitchen needs it: "
        "stop whatever listens there or set KITCHEN_HTTP_PORT to another port",
        f"port {free} is wanted by both market and web: set WEB_HTTP_PORT to another port",
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    plain, tty = io.StringIO(), _Terminal()
    Console(["kitchen"], None, stream=plain).line("kitchen", "hello")
    Console(["kitchen"], None, stream=tty).line("kitchen", "hello")
    assert plain.getvalue() == "kitchen  | hello\n"
    assert "\033[" in tty.getvalue()
    assert tty.getvalue().endswith(" | hello\n")
    monkeypatch.setenv("NO_COLOR", "1")
    no_colour = _Terminal()
    Console(["kitchen"], None, stream=no_colour).line("kitchen", "hello")
    assert no_colour.getvalue() == "kitchen  | hello\n"
