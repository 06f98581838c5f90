"""Warehouse settings (env prefix WAREHOUSE_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brigade_common.settings import ConsumerSettings, DatabaseSettings, JwtSettings, ServiceSettings

SERVICE = "warehouse"
SCHEMA = "warehouse"
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Settings(ServiceSettings, DatabaseSettings, ConsumerSettings, JwtSettings):
    model_config = SettingsConfigDict(env_prefix="WAREHOUSE_", extra="ignore", frozen=True)

    http_port: int = 8002
    # A supply request not covered by then fails (warehouse.supply.failed.v1).
    supply_deadline_s: float = Field(default=30.0, gt=0)
    # One market call may take at most this long.
    market_timeout_s: float = Field(default=2.0, gt=0)
    # Pause after a failed market call before the next try.
    market_retry_s: float = Field(default=0.2, ge=0)
    # Transactions of supply commands at the stock (register a request, stock a purchase, deliver)
    # running at once in this process; the commands that come meanwhile take theirs together in the next
    # (one lock of their requests and stock rows, one commit). 0 = no limit, one command each.
    max_concurrent_stock_transactions: int = Field(default=1, ge=0, le=1024)
