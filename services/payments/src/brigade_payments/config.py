"""Payments settings (env prefix PAYMENTS_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brigade_common.settings import ConsumerSettings, DatabaseSettings, JwtSettings, ServiceSettings

SERVICE = "payments"
SCHEMA = "payments"
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Settings(ServiceSettings, DatabaseSettings, ConsumerSettings, JwtSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENTS_", extra="ignore", frozen=True)

    http_port: int = 8005
    # How long asking the kitchen for an order the replica has not heard of may take.
    kitchen_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # How long the sandbox provider takes to answer (0: at once); a real provider's latency, to rehearse.
    sandbox_latency_ms: float = Field(default=0.0, ge=0, le=60_000)
    # A payment still `processing` this long after it started lost its request (a crashed process):
    # the sweep asks the provider again, with the same attempt id, and settles it.
    stuck_after_s: float = Field(default=60.0, gt=0)
    # How often payments left processing are looked for.
    sweep_s: float = Field(default=10.0, gt=0)
    # How often expired Idempotency-Keys (older than 24 hours) are deleted.
    idempotency_purge_s: float = Field(default=3600.0, gt=0)
