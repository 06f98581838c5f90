"""`<SERVICE>_REPLICAS`: N processes of a service on its one port, each supervised and awaited alone,
migrated once."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from brigade_common.testing.waiting import eventually
from brigade_devstack.catalog import ServiceSpec
from brigade_devstack.errors import DevstackError
from brigade_devstack.layout import Layout
from brigade_devstack.readiness import wait_ready
from brigade_devstack.registry import Registry
from brigade_devstack.stack import Stack, UpOptions
from brigade_devstack.stackconfig import resolve
from brigade_devstack.supervisor import Supervisor
from tools.devstack.tests.devstack_testing import Fakes, alive, fake_spec, free_ports

LAYOUT = Layout(root=Path("/repo"), home=Path("/repo/.brigade"))
TABLE = [
    ServiceSpec("kitchen", "k", 8001, has_database=True, has_seed=True),
    ServiceSpec("market", "m", 8003),
    ServiceSpec("web", "w", 8080, gateway=True),
]


def test_two_kitchen_replicas_share_its_port_and_each_has_one_of_its_own() -> None:
    environ = {"KITCHEN_REPLICAS": "2", "BRIGADE_REPLICA_PORT": "19000"}
    config = resolve(LAYOUT, TABLE, environ, unavailable=lambda spec: None)
    kitchen, market, web = config.services

    assert [(i.name, i.own_port) for i in kitchen.instances] == [("kitchen-1", 19000), ("kitchen-2", 19001)]
    assert [kitchen.ready_url(i) for i in kitchen.instances] == [
        "http://127.0.0.1:19000/readyz",
        "http://127.0.0.1:19001/readyz",
    ]
    commands = config.api_commands(kitchen, environ)
    assert [c.name for c in commands] == ["kitchen-1", "kitchen-2"]
    for command, own in zip(commands, ("19000", "19001"), strict=True):
        assert command.env["KITCHEN_HTTP_PORT"] == "8001"
        assert command.env["KITCHEN_HTTP_REUSE_PORT"] == "true"
        assert command.env["KITCHEN_HTTP_INSTANCE_PORT"] == own
        assert command.env["KITCHEN_INSTANCE"] == command.name

    # One process: the service itself, on its port alone, as before.
    (only,) = config.api_commands(market, environ)
    assert (only.name, only.env["MARKET_INSTANCE"]) == ("market", "market")
    assert "MARKET_HTTP_REUSE_PORT" not in only.env
    assert market.ready_url(market.instances[0]) == "http://127.0.0.1:8003/readyz"

    # Migrations and seeds are the service's, run once, not a replica's.
    migrate = config.command(kitchen, "migrate", environ)
    assert migrate.name == "kitchen"
    assert "KITCHEN_HTTP_REUSE_PORT" not in migrate.env

    # The gateway routes to the shared port; each replica's own port is checked before anything starts.
    assert json.loads(config.environment(web, environ)["WEB_UPSTREAMS"]) == {
        "kitchen": "http://127.0.0.1:8001",
        "market": "http://127.0.0.1:8003",
    }
    claims = {c.owner: (c.port, c.env_var) for c in config.port_claims()}
    assert claims["kitchen"] == (8001, "KITCHEN_HTTP_PORT")
    assert claims["kitchen-1"] == (19000, "BRIGADE_REPLICA_PORT")
    assert claims["kitchen-2"] == (19001, "BRIGADE_REPLICA_PORT")
    assert config.process_names == ["kitchen", "kitchen-1", "kitchen-2", "market", "web"]


def test_the_replicas_of_several_services_get_consecutive_ports_of_their_own() -> None:
    environ = {"KITCHEN_REPLICAS": "2", "MARKET_REPLICAS": "3"}
    kitchen, market, _ = resolve(LAYOUT, TABLE, environ, unavailable=lambda spec: None).services
    assert [i.own_port for i in kitchen.instances + market.instances] == [18001, 18002, 18003, 18004, 18005]
    assert [i.name for i in market.instances] == ["market-1", "market-2", "market-3"]


@pytest.mark.parametrize("value", ["0", "two", "9", "-1"])
def test_a_bad_replica_count_names_the_variable(value: str) -> None:
    with pytest.raises(
        DevstackError, match=rf"KITCHEN_REPLICAS must be a number of processes from 1 to 8, got '{value}'"
    ):
        resolve(LAYOUT, TABLE, {"KITCHEN_REPLICAS": value}, unavailable=lambda spec: None)


async def test_replicas_are_migrated_once_then_each_is_supervised_and_awaited_alone(fakes: Fakes) -> None:
    taken: set[int] = set()  # the shared port and the replicas' own: three distinct ports
    port = free_ports(1, taken)
    replica_ports = free_ports(2, taken)
    environ = {**fakes.environ, "FAKE_NAME": "alpha", "ALPHA_REPLICAS": "2", "BRIGADE_REPLICA_PORT": str(replica_ports)}
    config = resolve(fakes.layout, [fake_spec("alpha", port, has_database=True, has_seed=True)], environ)
    (svc,) = config.services
    console, out = fakes.console(config.process_names)
    stack = Stack(config, console, Registry(fakes.tmp / "processes.json"), UpOptions(), environ)
    supervisor = Supervisor(console, grace=2.0)
    try:
        await stack._prepare_and_launch(svc, supervisor, users="[]")
        urls = {i.name: svc.ready_url(i) for i in svc.instances}
        assert await wait_ready(urls, console, timeout=15, interval=0.05) == set()
        assert fakes.lines("alpha", "commands") == ["migrate", "seed"]  # once for both
        assert sorted(supervisor.services) == ["alpha-1", "alpha-2"]
        assert len(fakes.lines("alpha", "starts")) == 2

        seen: set[str] = set()

        async def both_answered() -> bool:
            # A new connection each time: the kernel picks a replica per connection.
            async with httpx.AsyncClient() as client:
                seen.add((await client.get(f"http://127.0.0.1:{port}/readyz")).text)
            return seen == {"alpha-1", "alpha-2"}

        await eventually(both_answered, timeout=10, what="both replicas answering on the shared port")

        # A crash is one replica's: it alone is restarted (with its own back-off), the other keeps serving.
        first, second = supervisor.services["alpha-1"], supervisor.services["alpha-2"]
        survivor, victim = first.pid, second.pid
        assert survivor is not None and victim is not None
        os.kill(victim, signal.SIGKILL)
        await eventually(lambda: second.restarts == 1 and second.pid not in (None, victim), what="alpha-2 restarted")
        assert (first.restarts, first.pid) == (0, survivor)
        assert alive(survivor)
        assert await wait_ready({"alpha-2": urls["alpha-2"]}, console, timeout=15, interval=0.05) == set()
    finally:
        await supervisor.stop()
    text = out.getvalue()
    assert "alpha-2 exited (signal 9), restarting in" in text
    assert "alpha-1 is ready" in text and "alpha-2 is ready" in text
    assert f"alpha-1  | alpha listening on {port}" in text.splitlines()
    assert (fakes.layout.logs / "alpha-2.log").exists()
