"""The dish routes as staff and customers call them in the kitchen's integration tests: a new dish, its
reads with their ETag, a PNG of any size, and the dish events the outbox holds."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from brigade_common.envelope import Envelope
from services.kitchen.tests.integration.harness import KitchenClient

DISHES = "/api/kitchen/dishes"
MERGE = {"content-type": "application/merge-patch+json"}
NEW = {
    "name": "Arepa reina pepiada",
    "description": "Pollo, aguacate y mayonesa.",
    "price_cents": 750,
    "ingredients": {"harina_maiz": 2, "pollo": 1, "aguacate": 1},
}


def png(width: int = 1, height: int = 1) -> bytes:
    """A real, tiny PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def staff(k: KitchenClient, **extra: str) -> dict[str, str]:
    return {**k.staff(), **extra}


async def create(k: KitchenClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = await k.http.post(DISHES, json=body or NEW, headers=k.staff())
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == f'"{r.json()["version"]}"'
    assert r.headers["location"] == f"{DISHES}/{r.json()['id']}"
    return dict(r.json())


async def read(k: KitchenClient, dish_id: str) -> tuple[int, dict[str, Any], str | None]:
    r = await k.http.get(f"{DISHES}/{dish_id}")
    return r.status_code, r.json(), r.headers.get("etag")


START = [0]


async def mark_stream_start(kitchen: KitchenClient) -> None:
    """Note where the KITCHEN stream stands as a test begins (the NATS server outlives one test):
    `outbox` reads the dish events after it. The autouse fixture of this folder calls it."""
    info = await kitchen.app.nc.jetstream().stream_info("KITCHEN")
    START[0] = info.state.last_seq


async def outbox(k: KitchenClient, prefix: str = "kitchen.dish.") -> list[Envelope]:
    """The dish events this test's writes sent, in order: those the relay published already and
    those still in the outbox (a write and its event commit together, so together they are all)."""
    js = k.app.nc.jetstream()
    found: dict[str, Envelope] = {}
    for row in await k.db.fetch("SELECT subject, payload FROM outbox ORDER BY seq"):
        if row["subject"].startswith(prefix):
            env = Envelope.from_bytes(row["payload"])
            found[env.id] = env
    info = await js.stream_info("KITCHEN")
    for seq in range(max(START[0] + 1, info.state.first_seq), info.state.last_seq + 1):
        msg = await js.get_msg("KITCHEN", seq)
        if msg.subject.startswith(prefix):
            env = Envelope.from_bytes(msg.data or b"")
            found.setdefault(env.id, env)
    return sorted(found.values(), key=lambda e: e.occurred_at)
