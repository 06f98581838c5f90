"""A minimal HTTP/1.1 keep-alive client on asyncio streams: one connection per load worker.

Far cheaper per request than a general-purpose client, which matters when the load generator shares
two cores with the services it measures. Understands exactly what uvicorn sends back: a status line,
headers and a Content-Length body.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


def get_request(port: int, path: str) -> bytes:
    """The bytes of one HTTP/1.1 GET of `path` on 127.0.0.1:`port`."""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def json_request(method: str, port: int, path: str, body: Mapping[str, object], headers: Mapping[str, str]) -> bytes:
    """The bytes of one HTTP/1.1 request to 127.0.0.1:`port` with a JSON body and `headers`."""
    data = json.dumps(body).encode()
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{lines}Content-Length: {len(data)}\r\n\r\n"
    return head.encode() + data


class HttpConnection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one prepared request; (status, body). On any failure the connection is dropped."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        try:
            self._writer.write(raw)
            head = await self._reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                lname = name.strip().lower()
                if lname == b"content-length":
                    length = int(value)
                elif lname == b"connection" and value.strip().lower() == b"close":
                    close = True
                elif lname == b"transfer-encoding":
                    raise ValueError("chunked responses are not supported by the bench client")
            body = await self._reader.readexactly(length) if length else b""
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


@dataclass
class OrderRequests:
    """Builds `POST /api/kitchen/orders` requests: a distinct Idempotency-Key each, tokens in turn."""

    host: str
    port: int
    tokens: Sequence[str]
    dish_id: str
    quantity: int = 1
    path: str = "/api/kitchen/orders"
    _n: int = field(default=0, init=False)

    def build(self) -> bytes:
        self._n += 1
        body = json.dumps({"dish_id": self.dish_id, "quantity": self.quantity}).encode()
        token = self.tokens[self._n % len(self.tokens)] if self.tokens else ""
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{auth}"
            f"Idempotency-Key: bench-{uuid.uuid4().hex}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body


class HttpLoad:
    """The `Operation` for `closed_loop`: worker i posts on its own keep-alive connection."""

    def __init__(self, requests: OrderRequests, concurrency: int) -> None:
        self.requests = requests
        self.connections = [HttpConnection(requests.host, requests.port) for _ in range(concurrency)]

    async def __call__(self, i: int) -> tuple[bool, str]:
        status, _ = await self.connections[i].request(self.requests.build())
        return 200 <= status < 300, str(status)

    def close(self) -> None:
        for c in self.connections:
            c.close()


async def metrics_page(port: int) -> str:
    """A service's /metrics on 127.0.0.1:`port`, on a connection of its own."""
    conn = HttpConnection("127.0.0.1", port)
    try:
        status, body = await conn.request(get_request(port, "/metrics"))
        assert status == 200, f"GET /metrics: {status}"
        return body.decode()
    finally:
        conn.close()
