"""Auth settings (env prefix AUTH_)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from brigade_common.settings import DatabaseSettings, JwtSettings, ServiceSettings
from brigade_contracts.auth import Role

SERVICE = "auth"
SCHEMA = "auth"
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

# OWASP's Password Storage Cheat Sheet: argon2id with at least 19 MiB, 2 iterations, parallelism 1.
OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2


class DemoUser(BaseModel):
    """A user `seed` provides (local stacks only: `make up` writes them, passwords included)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str
    password: SecretStr
    display_name: str
    roles: frozenset[Role] = frozenset({Role.CUSTOMER})


class Settings(ServiceSettings, DatabaseSettings, JwtSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", frozen=True)

    http_port: int = 8004
    # Access tokens: short-lived, so a stolen one is worth little and a role change lands soon.
    access_ttl_s: int = Field(default=900, ge=30, le=3600)
    # Refresh tokens (each one single use; a session lasts this long past its last refresh).
    refresh_ttl_s: int = Field(default=14 * 24 * 3600, ge=60)
    # argon2id parameters; raising them rehashes each password at its next sign-in.
    argon2_memory_kib: int = Field(default=OWASP_MEMORY_KIB, ge=OWASP_MEMORY_KIB)
    argon2_time_cost: int = Field(default=OWASP_TIME_COST, ge=OWASP_TIME_COST)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)
    # Hashes computed at once (each holds argon2_memory_kib and a core); the rest queue.
    hash_concurrency: int = Field(default=2, ge=1, le=64)
    # Sign-in attempts per window before 429: per account (e-mail address), per client address.
    signin_window_s: float = Field(default=900.0, gt=0)
    signin_account_limit: int = Field(default=5, ge=1)
    signin_address_limit: int = Field(default=50, ge=1)
    # The cookies' `Secure` attribute: on wherever the site is served over HTTPS (the chart sets it).
    cookie_secure: bool = False
    # The first admin, made at start-up when no admin exists yet (never from a request): an existing
    # user of this address, or a new one with the password below.
    first_admin_email: str | None = None
    first_admin_password: SecretStr | None = None
    # `seed`'s users: a JSON list of {email, password, display_name, roles} (`make up` sets it).
    demo_users: tuple[DemoUser, ...] = ()

    @field_validator("demo_users", mode="before")
    @classmethod
    def _json(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value
