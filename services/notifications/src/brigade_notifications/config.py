"""Notifications settings (env prefix NOTIFICATIONS_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from brigade_common.settings import ConsumerSettings, DatabaseSettings, JwtSettings, ServiceSettings

SERVICE = "notifications"
SCHEMA = "notifications"
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Settings(ServiceSettings, DatabaseSettings, ConsumerSettings, JwtSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore", frozen=True)

    http_port: int = 8006
    # The SMTP server mail goes to (`make up`: its mail catcher; Kubernetes on kind: Mailpit).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # none: plain SMTP (a catcher on the same machine or cluster); starttls or tls for a real relay.
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    # Each SMTP step (connect, each command) may take this long before the attempt counts as failed.
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=300)
    mail_from: str = "Brigade <notifications@brigade.local>"
    # The right-hand side of every Message-ID this service writes.
    mail_domain: str = Field(default="notifications.brigade.local", pattern=r"^[A-Za-z0-9.-]+$")
    # Links in the mail point here.
    public_url: str = "http://localhost:8080"
    # Attempts per mail before it is given up on (and listed at GET /mail?status=failed), and the
    # waits between them: base, doubling, at most max.
    mail_max_attempts: int = Field(default=10, ge=1, le=1000)
    mail_backoff_s: float = Field(default=5.0, gt=0)
    mail_backoff_max_s: float = Field(default=900.0, gt=0)
    # How often the sender looks for due mail when nothing wakes it (a commit that queues mail does).
    mail_poll_s: float = Field(default=1.0, gt=0)
    # Mail taken per round, and SMTP connections used for it at once.
    mail_batch: int = Field(default=20, ge=1, le=500)
    mail_connections: int = Field(default=4, ge=1, le=64)
    # A mail whose recipient's address is still unknown after this long is given up on.
    mail_address_wait_s: float = Field(default=86_400.0, gt=0)
