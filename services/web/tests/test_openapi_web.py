"""The web service documents what it answers itself (the app), and names the prefixes it forwards:
those APIs are documented by the services behind them."""

from __future__ import annotations

from pathlib import Path

import httpx

from brigade_web.app import build_app
from brigade_web.config import Settings

ROUTES = Path(__file__).resolve().parents[3] / "infra/helm/brigade/routes.yaml"


async def test_openapi_documents_the_app_and_names_the_forwarded_prefixes(tmp_path: Path) -> None:
    app = build_app(Settings(routes_file=ROUTES, static_dir=tmp_path, upstreams={}))  # type: ignore[call-arg]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
            doc = (await client.get("/api/web/openapi.json")).json()
    assert list(doc["paths"]) == ["/"]
    assert "`/api/kitchen`" in doc["info"]["description"]
    assert "`/api/warehouse`" in doc["info"]["description"]
