"""The service catalog: what a declaration defaults to, and the clashes and broken registrations it
refuses with a message that names the services involved."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from pydantic_settings import SettingsConfigDict

from brigade_common.catalog import CatalogError, build, load
from brigade_common.service import DefinitionError, Route, ServiceDefinition
from brigade_common.settings import DatabaseSettings, JwtSettings, ServiceSettings
from brigade_contracts.streams import DLQ, StreamSpec


class PantrySettings(ServiceSettings, DatabaseSettings, JwtSettings):
    model_config = SettingsConfigDict(env_prefix="PANTRY_", extra="ignore", frozen=True)

    http_port: int = 8101


class LedgerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore", frozen=True)

    http_port: int = 8102


def no_app(settings: Any) -> Any:
    raise AssertionError("the catalog never builds an app")


def pantry(**kwargs: Any) -> ServiceDefinition[Any]:
    return ServiceDefinition("pantry", PantrySettings, no_app, **kwargs)


def ledger(**kwargs: Any) -> ServiceDefinition[Any]:
    return ServiceDefinition("ledger", LedgerSettings, no_app, **kwargs)


def test_a_declaration_takes_its_defaults_from_its_settings() -> None:
    defn = pantry(schema="pantry")
    assert defn.http_port == 8101
    assert defn.module == PantrySettings.__module__.split(".")[0]  # the settings class's top package
    assert defn.image == "brigade-pantry"
    assert defn.env_prefix == "PANTRY_"
    assert defn.has_database and defn.jwt and defn.nats
    plain = ledger()
    assert not plain.has_database
    assert not plain.jwt, "its settings read no JWKS"


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"routes": (Route("api/pantry"),)}, "route prefix 'api/pantry' must start with '/'"),
        ({"routes": (Route("/api/pantry/"),)}, "route prefix '/api/pantry/' must start with '/' and not end with it"),
        ({"migrations_dir": Path("migrations")}, "pantry: migrations and seed need the schema"),
        ({"consumers": ("pantry-a", "pantry-a")}, "a durable consumer is listed twice"),
    ],
)
def test_a_declaration_that_contradicts_itself_is_refused(kwargs: dict[str, Any], complaint: str) -> None:
    with pytest.raises(DefinitionError, match=complaint):
        pantry(**kwargs)


def test_the_catalog_is_sorted_and_knows_its_gateway_routes_and_databases() -> None:
    front = ServiceDefinition("front", LedgerSettings, no_app, http_port=8100, routes=(Route("/"),), gateway=True)
    catalog = build(
        [
            pantry(schema="pantry", routes=(Route("/api/pantry"), Route("/api/pantry/ws", websocket=True))),
            front,
            ledger(),
        ]
    )
    assert catalog.names == ["front", "ledger", "pantry"]
    assert catalog.gateway is front
    assert [s.name for s in catalog.backends] == ["ledger", "pantry"]
    assert [s.name for s in catalog.with_database] == ["pantry"]
    assert [(r.prefix, s.name) for r, s in catalog.routes()] == [
        ("/api/pantry/ws", "pantry"),
        ("/api/pantry", "pantry"),
        ("/", "front"),
    ]
    with pytest.raises(CatalogError, match="no service 'cellar' in the catalog \\(it has front, ledger, pantry\\)"):
        catalog.get("cellar")


def test_every_clash_is_listed_with_the_services_involved() -> None:
    other = ServiceDefinition(
        "cellar",
        PantrySettings,
        no_app,
        routes=(Route("/api/pantry"),),
        image="brigade-pantry",
        consumers=("pantry-supply",),
        streams=(StreamSpec("DLQ", ("dlq.>",)),),
        gateway=True,
    )
    mine = pantry(routes=(Route("/api/pantry"),), consumers=("pantry-supply",), streams=(DLQ,), gateway=True)
    with pytest.raises(CatalogError) as refused:
        build([mine, other, pantry()])
    message = str(refused.value)
    module = PantrySettings.__module__.split(".")[0]
    assert f"service name 'pantry' is claimed by pantry ({module}) and pantry ({module})" in message
    assert f"HTTP port 8101 is claimed by cellar ({module}) and pantry ({module})" in message
    assert "route prefix '/api/pantry' is claimed by cellar" in message
    assert "image 'brigade-pantry' is claimed by" in message
    assert "durable consumer 'pantry-supply' is claimed by" in message
    assert "more than one gateway: cellar, pantry" in message
    assert "stream DLQ is declared differently by pantry" in message


def test_registrations_that_cannot_be_used_say_which_and_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "catalog_fixture.py").write_text(
        "from brigade_common.service import ServiceDefinition\n"
        "from brigade_common.settings import ServiceSettings\n"
        "LEDGER = ServiceDefinition('ledger', ServiceSettings, print)\n"
        "NOT_A_DEFINITION = 42\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    def entry(name: str, value: str) -> EntryPoint:
        return EntryPoint(name, value, "brigade.services")

    assert load([entry("ledger", "catalog_fixture:LEDGER")]).names == ["ledger"]
    with pytest.raises(CatalogError, match=r"service 'gone' is registered as gone_module:GONE but cannot be loaded"):
        load([entry("gone", "gone_module:GONE")])
    with pytest.raises(CatalogError, match="catalog_fixture:NOT_A_DEFINITION is not a ServiceDefinition"):
        load([entry("odd", "catalog_fixture:NOT_A_DEFINITION")])
    with pytest.raises(CatalogError, match="'books': catalog_fixture:LEDGER declares itself as 'ledger'"):
        load([entry("books", "catalog_fixture:LEDGER")])
