"""The web service documents what it serves: the app and every API prefix it forwards."""

from __future__ import annotations

from pathlib import Path

import httpx

from brigade_web.app import build_app
from brigade_web.config import Settings

ROUTES = Path(__file__).resolve().parents[3] / "infra/helm/brigade/routes.yaml"


async def test_openapi_lists_the_app_and_the_forwarded_prefixes(tmp_path: Path) -> None:
    app = build_app(Settings(routes_file=ROUTES, static_dir=tmp_path, upstreams={}))  # type: ignore[call-arg]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
            doc = (await client.get("/api/web/openapi.json")).json()
    assert "/" in doc["paths"]
    assert "/api/kitchen/{path}" in doc["paths"]
    assert "/api/warehouse/{path}" in doc["paths"]
