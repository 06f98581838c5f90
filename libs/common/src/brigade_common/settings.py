"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every Brigade process reads at start-up (env prefix set by the subclass)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    nats_url: str = "nats://127.0.0.1:4222"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"


class DatabaseSettings(BaseSettings):
    """Mixin for services that own a schema in PostgreSQL."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: SecretStr
    database_pool_size: int = 10
    # Off only to rehearse a crash between commit and publish: rows wait in the outbox until a
    # process with the relay on sweeps them.
    outbox_relay: bool = True


class JwtSettings(BaseSettings):
    """Mixin for services that verify bearer tokens: a JWKS document with Ed25519 public keys."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    jwt_public_keys: str
    jwt_issuer: str = "brigade"
    jwt_audience: str = "brigade"
