"""Many sockets on one feed: every one gets every event in order, and one that stops reading is closed
instead of slowing the others down or piling up memory."""

from __future__ import annotations

import base64
import os
import socket
from contextlib import AsyncExitStack
from pathlib import Path

from brigade_common.testing.inprocess import TestKeys
from brigade_contracts.kitchen import PANTRY_MOVED
from brigade_contracts.warehouse import STOCK_MOVED
from services.live.tests.integration.harness import Client, LiveServer, client, live_server

CLIENTS = 200
EVENTS = 300
BATCH = 10
QUEUE_FRAMES = 50
TOO_SLOW = 4008
# Random bytes: permessage-deflate (which browsers and the server negotiate) cannot shrink them, so
# each stock event puts at least this much on the wire.
BULK_ENTROPY = 48 * 1024


def tiny_receive_buffer(port: int) -> socket.socket:
    """A connected socket that takes in little before the sender has to wait (a client that stalls)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


def send_buffer_ceiling() -> int:
    """The most a server socket may hold unsent: Linux sizes a loopback connection's send buffer
    near tcp_wmem's maximum (4 MiB by default) from the start, whatever the receiver's window."""
    return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])


async def publish_stock_backlog(live: LiveServer) -> list[int]:
    """Stock events that add up to more than the server's socket buffers can hold for one client."""
    count = (send_buffer_ceiling() + 2**20) // BULK_ENTROPY + 1
    note = base64.b64encode(os.urandom(BULK_ENTROPY)).decode()
    data = {"ingredient": "pan", "note": note}
    return [await live.publish(STOCK_MOVED, {**data, "movement_id": i}) for i in range(count)]


async def test_two_hundred_clients_get_every_event_in_order_and_a_stalled_one_is_closed(
    nats_url: str, keys: TestKeys
) -> None:
    async with live_server(nats_url, keys, queue_frames=QUEUE_FRAMES) as live, AsyncExitStack() as stack:
        backlog = await publish_stock_backlog(live)
        clients: list[Client] = []
        for _ in range(CLIENTS):
            c = await stack.enter_async_context(client(live, live.token()))
            await c.send({"type": "subscribe", "channel": "pantry"})
            clients.append(c)
        for c in clients:
            await c.until("live", "pantry")

        # A staff page that stops reading while it catches up with the stock ledger: its socket stays
        # blocked, so the pantry's live events pile up in its queue until there are too many.
        port = int(live.url.split(":")[2].split("/")[0])
        stalled = await stack.enter_async_context(
            client(live, live.token(), reading=False, sock=tiny_receive_buffer(port), max_queue=1)
        )
        await stalled.send({"type": "subscribe", "channel": "pantry"})
        await stalled.send({"type": "subscribe", "channel": "stock", "after": 0})

        # In step with the readers (a burst no reader could drain is not the point). Were the fan-out
        # to wait for the stalled socket, the first client would stop receiving and this would fail.
        canary = clients[0]
        published: list[int] = []
        for _ in range(EVENTS // BATCH):
            for _ in range(BATCH):
                published.append(
                    await live.publish(PANTRY_MOVED, {"movement_id": 1, "ingredient": "pan"}, padding=1_000)
                )
            await canary.until_seq("pantry", published[-1])
        for c in clients:
            await c.until_seq("pantry", published[-1])

        assert all(c.seqs("pantry") == published for c in clients)  # all of them, once, in order
        assert all(c.close_code is None for c in clients)
        assert await stalled.closed() == TOO_SLOW  # reading again, it finds the close after what was sent
        got_stock, got_pantry = stalled.seqs("stock"), stalled.seqs("pantry")
        assert got_stock == backlog[: len(got_stock)] and len(got_stock) < len(backlog)
        joined = (await stalled.until("live", "pantry"))["seq"]  # its subscription began after this one
        assert got_pantry == [s for s in published if s > joined][: len(got_pantry)]
        assert len(got_pantry) < EVENTS - QUEUE_FRAMES
