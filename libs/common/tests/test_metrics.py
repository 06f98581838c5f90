"""HTTP metrics by route template and the /metrics exposition, through real apps."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from brigade_common.http import create_app
from brigade_common.metrics import MESSAGES, OUTBOX_LAG, OUTBOX_PUBLISHED


async def get_order(request: Request) -> Response:
    return PlainTextResponse(str(request.path_params["id"]))


async def crash(request: Request) -> Response:
    raise RuntimeError("boom")


def make_app(service: str) -> Starlette:
    return create_app(
        service=service,
        routes=[
            Route("/api/m/orders/{id}", get_order),
            Route("/api/m/crash", crash),
            Mount("/api/m/v2", routes=[Route("/orders/{id}", get_order)]),
        ],
    )


def requests_total(service: str, route: str, status: str, method: str = "GET") -> float:
    labels = {"service": service, "method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("brigade_http_requests_total", labels) or 0.0


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_requests_are_counted_by_route_template_not_raw_path() -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    async with client(make_app(service)) as c:
        for _ in range(2):
            assert (await c.get(f"/api/m/orders/{uuid.uuid4()}")).status_code == 200
        await c.get("/api/m/v2/orders/42")
        await c.get("/api/m/crash")
        await c.get(f"/api/m/unknown/{uuid.uuid4()}")
        await c.post("/api/m/orders/1")
    assert requests_total(service, "/api/m/orders/{id}", "200") == 2
    assert requests_total(service, "/api/m/v2/orders/{id}", "200") == 1
    assert requests_total(service, "/api/m/crash", "500") == 1
    assert requests_total(service, "<unmatched>", "404") == 1
    assert requests_total(service, "/api/m/orders/{id}", "405", method="POST") == 1
    count = REGISTRY.get_sample_value(
        "brigade_http_request_duration_seconds_count",
        {"service": service, "method": "GET", "route": "/api/m/orders/{id}"},
    )
    assert count == 2


async def test_several_apps_in_one_process_share_the_metrics() -> None:
    first, second = make_app("one"), make_app("two")
    async with client(first) as c1, client(second) as c2:
        before = requests_total("two", "/api/m/orders/{id}", "200")
        await c1.get("/api/m/orders/1")
        await c2.get("/api/m/orders/1")
    assert requests_total("two", "/api/m/orders/{id}", "200") == before + 1


async def test_metrics_endpoint_exposes_http_and_messaging_metrics() -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    MESSAGES.labels(service, "kitchen-deliveries", "ack").inc()
    MESSAGES.labels(service, "kitchen-deliveries", "dlq").inc()
    OUTBOX_PUBLISHED.labels(service).inc(3)
    OUTBOX_LAG.labels(service).observe(0.02)
    async with client(make_app(service)) as c:
        await c.get("/api/m/orders/1")
        r = await c.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
        if s.labels.get("service") == service
    }
    key = tuple(sorted({"service": service, "consumer": "kitchen-deliveries", "outcome": "dlq"}.items()))
    assert samples[("brigade_messages_total", key)] == 1
    assert samples[("brigade_outbox_published_total", (("service", service),))] == 3
    assert samples[("brigade_outbox_lag_seconds_count", (("service", service),))] == 1
    http_key = tuple(
        sorted({"service": service, "method": "GET", "route": "/api/m/orders/{id}", "status": "200"}.items())
    )
    assert samples[("brigade_http_requests_total", http_key)] == 1
    assert "brigade_http_request_duration_seconds" in families
