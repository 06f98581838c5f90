from __future__ import annotations

from pathlib import Path

import pytest

from brigade_web.config import Settings
from brigade_web.routing import Route, RouteTable, RouteTableError, load_routes

ROUTES_FILE = Path(__file__).resolve().parents[3] / "infra" / "helm" / "brigade" / "routes.yaml"


def test_longest_prefix_on_whole_segments() -> None:
    table = RouteTable([Route("/", "web"), Route("/api/kitchen", "kitchen"), Route("/api/live", "live", True)])
    assert table.match("/api/kitchen") == Route("/api/kitchen", "kitchen")
    assert table.match("/api/kitchen/orders/1") == Route("/api/kitchen", "kitchen")
    assert table.match("/api/kitchenette") == Route("/", "web")
    assert table.match("/api/live/ws") == Route("/api/live", "live", True)
    assert table.match("/menu") == Route("/", "web")


def test_the_shared_route_file_loads() -> None:
    table = load_routes(ROUTES_FILE)
    assert {"kitchen", "warehouse", "market", "web"} <= table.components
    live = table.match("/api/live/ws")
    assert live is not None
    assert live.websocket


def test_a_bad_route_file_names_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "routes.yaml"
    bad.write_text("- prefix: api/kitchen\n  component: kitchen\n")
    with pytest.raises(RouteTableError, match="entry 1: prefix"):
        load_routes(bad)
    with pytest.raises(RouteTableError, match="cannot read"):
        load_routes(tmp_path / "absent.yaml")


def test_settings_read_upstreams_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_UPSTREAMS", '{"kitchen": "http://127.0.0.1:8001"}')
    monkeypatch.setenv("WEB_HTTP_PORT", "9090")
    settings = Settings()
    assert settings.upstreams == {"kitchen": "http://127.0.0.1:8001"}
    assert settings.http_port == 9090
