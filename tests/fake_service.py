"""A throwaway service for the tests that show what adding a service takes (tests/test_catalog.py,
tests/k8s/test_k8s_catalog.py): declared as services/sample/src/brigade_sample/definition.py would
declare it, but never installed, so the catalog has it only where a test builds it in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_settings import SettingsConfigDict

from brigade_common.service import Route, ServiceDefinition
from brigade_common.settings import DatabaseSettings, JwtSettings, ServiceSettings
from brigade_contracts.streams import DLQ

REPO = Path(__file__).resolve().parents[1]


class SampleSettings(ServiceSettings, DatabaseSettings, JwtSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLE_", extra="ignore", frozen=True)

    http_port: int = 8099


async def no_seed(conn: Any, settings: SampleSettings) -> None:
    """Stands in for the demo data a real service would load."""


# A throwaway service, as services/sample/src/brigade_sample/definition.py would declare it (named so
# that no real service will ever clash with it).
SAMPLE = ServiceDefinition(
    "sample",
    SampleSettings,
    lambda settings: None,  # type: ignore[arg-type,return-value]
    module="brigade_sample",
    routes=(Route("/api/sample"),),
    schema="sample",
    migrations_dir=REPO / "services/sample/migrations",
    seed=no_seed,
    streams=(DLQ,),
    consumers=("sample-restock",),
)
