"""A service started with a missing or invalid setting says which variable, and stops."""

from __future__ import annotations

import pytest
from pydantic_settings import SettingsConfigDict

from brigade_common.commands import commands
from brigade_common.service import ServiceDefinition
from brigade_common.settings import DatabaseSettings, ServiceSettings


class DemoSettings(ServiceSettings, DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore", frozen=True)


def test_a_missing_setting_stops_the_command_naming_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_DATABASE_URL", raising=False)
    monkeypatch.setenv("DEMO_HTTP_PORT", "not-a-port")
    defn = ServiceDefinition("demo", DemoSettings, lambda s: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(SystemExit) as stopped:
        commands(defn)["api"]()
    message = str(stopped.value.code)
    assert "DEMO_DATABASE_URL: Field required" in message
    assert "DEMO_HTTP_PORT" in message
