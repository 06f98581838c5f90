"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every Brigade process reads at start-up (env prefix set by the subclass)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # One server's URL, or a cluster's, comma-separated.
    nats_url: str = "nats://127.0.0.1:4222"
    # On how many servers each stream the service provisions is kept (its consumers inherit it):
    # 1 on one server, 3 on a three-server cluster, so that losing a server loses nothing.
    nats_replicas: int = Field(default=1, ge=1, le=5)
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Replicas of one service on one machine share `http_port` like pods behind a Service: each binds
    # it with SO_REUSEPORT and the kernel spreads the connections. Off by default, so that a second
    # stack started by mistake fails on the taken port instead of silently sharing it.
    http_reuse_port: bool = False
    # A port of this process alone (0: none), serving the same app: what a pod's own address is to
    # its probes and to Prometheus, so that each replica's /readyz and /metrics can be asked.
    http_instance_port: int = Field(default=0, ge=0, lt=65536)
    # Which process this is, in /readyz (not a secret): `kitchen-2` under the devstack; default the
    # host name and pid (a pod's host name is its name).
    instance: str = ""
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


class ConsumerSettings(BaseSettings):
    """Mixin for services that run JetStream consumers: how a failing message is retried.

    The budget is for failures of the message itself; an outage of the database or NATS is ridden
    out without spending it (brigade_common.consumer).
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # Redelivery of unacknowledged messages (a crashed consumer's in-flight work).
    ack_wait_s: float = Field(default=30.0, gt=0)
    # Deliveries before a message that keeps failing is dead-lettered.
    consumer_max_deliver: int = Field(default=8, ge=1, le=1000)
    # Pause before each redelivery of a failed message (the last one repeats): JSON, e.g. [0.2, 1, 5].
    consumer_backoff_s: tuple[float, ...] = Field(default=(0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0), min_length=1)

    def consumer_options(self) -> dict[str, Any]:
        """The `ConsumerSpec` keywords these settings give."""
        return {
            "ack_wait_s": self.ack_wait_s,
            "max_deliver": self.consumer_max_deliver,
            "backoff_s": self.consumer_backoff_s,
        }


class JwtSettings(BaseSettings):
    """Mixin for services that verify access tokens: with the auth service's keys, asked for over NATS
    (the default), or with a fixed JWKS document of Ed25519 public keys (`JWT_PUBLIC_KEYS`)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    jwt_public_keys: str | None = None
    jwt_issuer: str = "brigade"
    jwt_audience: str = "brigade"

    def jwt_verifier(self, connection: Callable[[], Any]) -> Any:
        """The verifier these settings describe; `connection` gives the NATS client once there is one."""
        from brigade_common.auth.keysource import AuthServiceKeys
        from brigade_common.auth.verifier import JwtVerifier

        keys = self.jwt_public_keys if self.jwt_public_keys else AuthServiceKeys(connection)
        return JwtVerifier(keys, issuer=self.jwt_issuer, audience=self.jwt_audience)
