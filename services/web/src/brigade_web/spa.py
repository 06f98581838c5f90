"""The single-page app: files from the built front end, `index.html` for client-side routes."""

from __future__ import annotations

import posixpath
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Brigade</title></head>
<body><h1>Brigade</h1><p>The front end has not been built: run <code>make up</code> (it builds it),
or <code>npm ci &amp;&amp; npm run build</code> in <code>services/web/frontend</code>.</p>
<p>The APIs answer under <a href="/api/kitchen/openapi.json"><code>/api/&lt;service&gt;</code></a>.</p>
</body></html>
"""


def is_client_route(scope: Scope, path: str) -> bool:
    """A page the app renders itself (`/orders/42`), not a missing asset (`/assets/app.js`)."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    accept = next((v for k, v in scope.get("headers", []) if k == b"accept"), b"")
    return b"text/html" in accept or "." not in posixpath.basename(path)


class SinglePageApp(StaticFiles):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, html=True, check_dir=False)
        self.index = directory / "index.html"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.index.is_file():
            await HTMLResponse(NOT_BUILT, status_code=503)(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or not is_client_route(scope, path):
                raise
        response = await super().get_response("index.html", scope)
        response.headers["cache-control"] = "no-cache"  # the shell must pick up new deployments
        return response
