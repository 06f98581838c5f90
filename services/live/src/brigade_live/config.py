"""Live settings (env prefix LIVE_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brigade_common.settings import JwtSettings, ServiceSettings

SERVICE = "live"


class Settings(ServiceSettings, JwtSettings):
    model_config = SettingsConfigDict(env_prefix="LIVE_", extra="ignore", frozen=True)

    http_port: int = 8007
    # A socket that has not signed in by then (cookie or first message) is closed with 4401.
    auth_grace_s: float = Field(default=5.0, gt=0)
    # The server's `ping`, under any proxy's idle timeout (ingress-nginx closes idle sockets at 60 s).
    ping_s: float = Field(default=20.0, gt=0)
    # Frames waiting to go out to one socket; a client that lets more pile up is closed with 4008.
    queue_frames: int = Field(default=2_000, ge=10)
    # Live events held for a subscription while its replay runs; past this it is closed with 4008.
    held_frames: int = Field(default=20_000, ge=10)
    # Events read from the stream per page of a replay.
    replay_page: int = Field(default=1_000, ge=1, le=10_000)
