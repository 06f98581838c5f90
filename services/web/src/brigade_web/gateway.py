"""The catch-all ASGI app: `/api/<component>/…` to its upstream, everything else to the single-page app."""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from brigade_web.config import SERVICE, Settings
from brigade_web.problems import no_route, not_running, send_problem
from brigade_web.proxy_http import proxy_http
from brigade_web.proxy_ws import proxy_websocket
from brigade_web.routing import RouteTable
from brigade_web.spa import SinglePageApp


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class Gateway:
    """Routes like the ingress: the longest matching prefix of the route table picks the component."""

    def __init__(self, settings: Settings, routes: RouteTable) -> None:
        self.settings = settings
        self.routes = routes
        self.upstreams = {name: url.rstrip("/") for name, url in settings.upstreams.items()}
        self.spa = SinglePageApp(settings.static_dir)
        self.client: httpx.AsyncClient | None = None  # set by the app's lifespan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        route = self.routes.match(path)
        if route is None or route.component == SERVICE:
            if is_api_path(path):  # an API typo must not come back as the app's HTML with a 200
                await send_problem(no_route(path), scope, receive, send)
            else:
                await self.spa(scope, receive, send)
            return
        base = self.upstreams.get(route.component)
        if base is None:
            await send_problem(not_running(route.component), scope, receive, send)
        elif scope["type"] == "websocket":
            await proxy_websocket(self.settings, route.component, base, scope, receive, send)
        else:
            assert self.client is not None, "the gateway's HTTP client opens in the app lifespan"
            await proxy_http(self.client, route.component, base, scope, receive, send)
