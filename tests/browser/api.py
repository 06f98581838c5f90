"""The HTTP API as a signed-in browser context calls it (its session cookie, the site's own origin):
what browser tests do behind the page's back, to set a scene or to check the server's word."""

from __future__ import annotations

from typing import Any

from playwright.async_api import APIRequestContext

from brigade_common.testing.waiting import eventually
from tests.browser.site import Site

Json = dict[str, Any]


async def get(request: APIRequestContext, path: str) -> Any:
    r = await request.get(path)
    assert r.ok, f"GET {path}: {r.status} {await r.text()}"
    return await r.json()


async def post(request: APIRequestContext, site: Site, path: str, body: Json | None = None) -> Any:
    """A POST by the context's session cookie, from the site's own origin (as the app's fetch is)."""
    r = await request.post(path, data=body or {}, headers={"Origin": site.url})
    assert r.ok, f"POST {path}: {r.status} {await r.text()}"
    return await r.json()


async def place(request: APIRequestContext, site: Site, dish_id: str, quantity: int = 1) -> Json:
    order: Json = await post(request, site, "/api/kitchen/orders", {"dish_id": dish_id, "quantity": quantity})
    return order


async def status_of(request: APIRequestContext, order_id: str) -> str:
    order: Json = await get(request, f"/api/kitchen/orders/{order_id}")
    return str(order["status"])


async def reached(request: APIRequestContext, order_id: str, status: str, timeout: float = 60) -> None:
    async def there() -> bool:
        return await status_of(request, order_id) == status

    await eventually(there, timeout, f"order {order_id} {status}")
