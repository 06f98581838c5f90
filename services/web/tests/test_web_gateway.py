"""The gateway in front of real upstream servers: what a browser or API client would notice."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from brigade_web.app import build_app
from brigade_web.config import Settings
from services.web.tests.web_servers import closed_port, running
from services.web.tests.web_upstream import Gates, build_upstream

ROUTES_FILE = Path(__file__).resolve().parents[3] / "infra" / "helm" / "brigade" / "routes.yaml"


@dataclass
class Stack:
    gateway: str
    gates: Gates

    @property
    def ws(self) -> str:
        return self.gateway.replace("http://", "ws://")


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Brigade app</title>")
    (dist / "assets" / "app.js").write_text("console.log('app')")
    return dist


@pytest.fixture
async def stack(static_dir: Path) -> AsyncIterator[Stack]:
    gates = Gates()
    async with running(build_upstream(gates)) as upstream:
        settings = Settings(
            upstreams={"kitchen": upstream, "live": upstream, "market": f"http://127.0.0.1:{closed_port()}"},
            routes_file=ROUTES_FILE,
            static_dir=static_dir,
        )
        async with running(build_app(settings)) as gateway:
            yield Stack(gateway, gates)


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=10) as c:
        yield c


def _headers(payload: dict[str, object]) -> dict[str, str]:
    pairs = payload["headers"]
    assert isinstance(pairs, list)
    return {k: v for k, v in pairs}


async def test_request_and_response_pass_through(client: httpx.AsyncClient, stack: Stack) -> None:
    response = await client.post(
        "/api/kitchen/echo/a%2Fb%20c?x=1&y=%C3%A9",
        content=b'{"dish_id": "pan"}',
        headers={
            "content-type": "application/json",
            "authorization": "Bearer t0k3n",
            "proxy-authorization": "secret",
            "keep-alive": "300",
        },
    )
    assert response.status_code == 201
    assert response.headers["x-upstream"] == "kitchen"
    assert "keep-alive" not in response.headers
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    echoed = response.json()
    assert echoed["method"] == "POST"
    assert echoed["raw_path"] == "/api/kitchen/echo/a%2Fb%20c"  # nothing rewritten or re-encoded
    assert echoed["query"] == "x=1&y=%C3%A9"
    assert echoed["body"] == '{"dish_id": "pan"}'
    sent = _headers(echoed)
    assert sent["authorization"] == "Bearer t0k3n"
    assert sent["content-type"] == "application/json"
    assert sent["host"] == stack.gateway.removeprefix("http://")
    assert sent["x-forwarded-host"] == stack.gateway.removeprefix("http://")
    assert sent["x-forwarded-proto"] == "http"
    assert sent["x-forwarded-for"] == "127.0.0.1"
    assert sent["x-request-id"] == response.headers["x-request-id"]  # one id across both logs
    assert "proxy-authorization" not in sent
    assert "keep-alive" not in sent
    assert "accept-encoding" in sent  # the client's own, not one the gateway made up


async def test_one_clients_cookies_never_reach_another(client: httpx.AsyncClient, stack: Stack) -> None:
    signed_in = await client.post("/api/kitchen/echo")  # the upstream sets cookies on this client
    assert signed_in.headers.get_list("set-cookie")
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=10) as stranger:
        sent = _headers((await stranger.get("/api/kitchen/echo")).json())
    assert "cookie" not in sent


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_every_method_is_forwarded(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/api/kitchen/echo")
    assert response.status_code == 200
    assert response.json()["method"] == method


async def test_head_has_headers_and_no_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/api/kitchen/echo")
    assert response.status_code == 200
    assert response.headers["x-upstream"] == "kitchen"
    assert response.content == b""


async def test_compressed_bodies_pass_untouched(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/api/kitchen/gzip", headers={"accept-encoding": "gzip"}) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == b"hello " * 100


async def test_redirects_reach_the_client(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/kitchen/redirect")
    assert response.status_code == 307
    assert response.headers["location"] == "/api/kitchen/echo"


async def test_response_streams_before_the_upstream_finishes(client: httpx.AsyncClient, stack: Stack) -> None:
    async with client.stream("GET", "/api/kitchen/stream") as response:
        chunks = response.aiter_raw()
        first = await asyncio.wait_for(anext(chunks), 5)
        assert first == b"first;"  # arrived while the upstream is still holding the rest back
        stack.gates.release_rest.set()
        rest = b"".join([chunk async for chunk in chunks])
    assert rest == b"chunk-0;chunk-1;chunk-2;"


async def test_request_body_streams_to_the_upstream(client: httpx.AsyncClient, stack: Stack) -> None:
    piece = b"x" * 65536

    async def body() -> AsyncIterator[bytes]:
        yield piece
        # The rest is sent only once the upstream has started reading: a buffering gateway deadlocks.
        await asyncio.wait_for(stack.gates.upload_started.wait(), 5)
        for _ in range(31):
            yield piece

    response = await client.post("/api/kitchen/upload", content=body())
    assert response.status_code == 200
    assert response.json() == {"size": 32 * 65536, "sha256": hashlib.sha256(piece * 32).hexdigest()}


async def test_websocket_messages_and_close_codes_are_relayed(stack: Stack) -> None:
    async with connect(
        f"{stack.ws}/api/live/ws?from=7",
        subprotocols=["brigade.v1"],  # type: ignore[list-item]
        additional_headers={"authorization": "Bearer t0k3n"},
    ) as ws:
        assert ws.subprotocol == "brigade.v1"
        hello = json.loads(await ws.recv())
        assert hello["headers"]["authorization"] == "Bearer t0k3n"
        assert hello["headers"]["x-forwarded-proto"] == "http"
        await ws.send("hi")
        assert await ws.recv() == "echo:hi"
        await ws.send(b"\x00\x01")
        assert await ws.recv() == b"echo:\x00\x01"
        await ws.send("close-please")
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert (ws.close_code, ws.close_reason) == (4001, "bye")


async def test_client_close_code_reaches_the_upstream(stack: Stack) -> None:
    async with connect(f"{stack.ws}/api/live/ws") as ws:
        await ws.recv()
        await ws.close(code=4002, reason="leaving")
    assert await asyncio.wait_for(stack.gates.client_close, 5) == (4002, "leaving")


async def test_an_upstream_that_refuses_connections_is_a_503_to_retry(client: httpx.AsyncClient) -> None:
    """Nothing listens on the upstream's port (a restart): 503 with Retry-After, not a 502."""
    response = await client.get("/api/market/suppliers")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    problem = response.json()
    assert problem["status"] == 503
    assert problem["type"].endswith("/upstream-unavailable")
    assert "market" in problem["detail"]


async def test_websocket_to_a_down_upstream_is_refused_with_503(stack: Stack) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{stack.ws}/api/market/ws"):
            pass
    assert refused.value.response.status_code == 503


async def test_component_not_running_is_a_503_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/payments", json={"order_id": "o1"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "payments" in response.json()["detail"]


async def test_unknown_api_path_is_a_404_problem_not_the_app(client: httpx.AsyncClient) -> None:
    for path in ("/api/nope", "/api/kitchenette/x"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


async def test_single_page_app(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    assert home.status_code == 200
    assert "Brigade app" in home.text
    deep_link = await client.get("/orders/42", headers={"accept": "text/html"})
    assert deep_link.status_code == 200
    assert deep_link.text == home.text
    asset = await client.get("/assets/app.js")
    assert asset.text == "console.log('app')"
    missing = await client.get("/assets/missing.js")
    assert missing.status_code == 404


async def test_own_health_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_app_not_built_says_how_to_build_it(tmp_path: Path) -> None:
    settings = Settings(routes_file=ROUTES_FILE, static_dir=tmp_path / "missing")
    async with running(build_app(settings)) as gateway, httpx.AsyncClient(base_url=gateway) as client:
        response = await client.get("/")
    assert response.status_code == 503
    assert "npm run build" in response.text
