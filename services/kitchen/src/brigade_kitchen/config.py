"""Kitchen settings (env prefix KITCHEN_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brigade_common.settings import ConsumerSettings, DatabaseSettings, JwtSettings, ServiceSettings

SERVICE = "kitchen"
SCHEMA = "kitchen"
# The JetStream KV bucket the menu is read through (adapters/menu_cache.py).
MENU_BUCKET = "kitchen_menu"
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Settings(ServiceSettings, DatabaseSettings, ConsumerSettings, JwtSettings):
    model_config = SettingsConfigDict(env_prefix="KITCHEN_", extra="ignore", frozen=True)

    http_port: int = 8001
    # How long POST /orders waits for the order to leave `pending` before answering 202.
    order_wait_s: float = Field(default=5.0, ge=0, le=60)
    # How long a reserved order is held for payment before it expires.
    payment_window_s: float = Field(default=900.0, gt=0)
    # How long an order waits for the warehouse before it fails (longer than the warehouse's own
    # supply deadline, whose failure normally comes first: this one is the safety net).
    supply_wait_s: float = Field(default=60.0, gt=0)
    # How often overdue orders (a deadline whose scheduled check was lost) are looked for and settled.
    sweep_s: float = Field(default=10.0, gt=0)
    # Reservation transactions (POST /orders) running at once in this process; the orders that come while
    # they all run wait in the process rather than on the pantry row locks in PostgreSQL, and go together
    # in the next transaction (one lock, one write, one commit for all). 0 = no limit, one order each.
    max_concurrent_reservations: int = Field(default=2, ge=0, le=1024)
    # Delivery transactions (the warehouse's deliveries and purchases, from the kitchen-supply and
    # kitchen-purchases consumers) running at once in this process; those that come meanwhile are applied
    # together in the next (their orders and pantry rows locked once, one commit). 0 = no limit, one each.
    max_concurrent_deliveries: int = Field(default=1, ge=0, le=1024)
    # Dishes and the menu read through a JetStream KV bucket before PostgreSQL (off: every read from
    # PostgreSQL), each entry kept this long unless a change of its dish deletes it first.
    menu_cache: bool = True
    menu_cache_ttl_s: float = Field(default=300.0, gt=0)
    # How often expired Idempotency-Keys (older than 24 hours) are deleted.
    idempotency_purge_s: float = Field(default=3600.0, gt=0)
