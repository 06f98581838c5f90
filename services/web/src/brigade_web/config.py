"""Gateway settings (env prefix WEB_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brigade_common.settings import ServiceSettings

SERVICE = "web"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore", frozen=True)

    http_port: int = 8080
    # component → base URL, as JSON: {"kitchen": "http://127.0.0.1:8001", ...}. Empty in Kubernetes,
    # where the ingress routes /api/* and this process only serves the app.
    upstreams: dict[str, str] = Field(default_factory=dict)
    # The route table shared with the Helm chart; None: serve the app only.
    routes_file: Path | None = None
    # The built front end (`npm run build` in services/web/frontend).
    static_dir: Path = Path("services/web/frontend/dist")
    upstream_connect_timeout_s: float = Field(default=5.0, gt=0)
    # Long enough for the order long-poll and for streamed responses.
    upstream_read_timeout_s: float = Field(default=300.0, gt=0)
    websocket_max_message_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
