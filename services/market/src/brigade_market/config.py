"""Market settings (env prefix MARKET_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brigade_common.settings import ServiceSettings

SERVICE = "market"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MARKET_", extra="ignore", frozen=True)

    http_port: int = 8003
    # Same seed, same sequence of answers: reproducible runs and tests.
    seed: int | None = None
    # Injected faults, for tests and demos: extra latency per purchase and the share that fail.
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    max_units: int = Field(default=10, ge=0, le=1000)
