"""Many sockets on one feed: every one gets every event in order, and one that stops reading is closed
instead of slowing the others down or piling up memory."""

from __future__ import annotations

import socket
from contextlib import AsyncExitStack

from brigade_common.testing.inprocess import TestKeys
from brigade_contracts.kitchen import PANTRY_MOVED
from services.live.tests.integration.harness import Client, client, live_server

CLIENTS = 200
EVENTS = 300
BATCH = 10
TOO_SLOW = 4008


def tiny_receive_buffer(port: int) -> socket.socket:
    """A connected socket that takes in little before the sender has to wait (a client that stalls)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def test_two_hundred_clients_get_every_event_in_order_and_a_stalled_one_is_closed(
    nats_url: str, keys: TestKeys
) -> None:
    async with live_server(nats_url, keys, queue_frames=50) as live, AsyncExitStack() as stack:
        clients: list[Client] = []
        for _ in range(CLIENTS):
            c = await stack.enter_async_context(client(live, live.token()))
            await c.send({"type": "subscribe", "channel": "pantry"})
            clients.append(c)
        port = int(live.url.split(":")[2].split("/")[0])
        stalled = await stack.enter_async_context(
            client(live, live.token(), reading=False, sock=tiny_receive_buffer(port), max_queue=1)
        )
        await stalled.send({"type": "subscribe", "channel": "pantry"})
        for c in clients:
            await c.until("live", "pantry")
        canary = clients[0]

        published: list[int] = []
        for _ in range(EVENTS // BATCH):  # in step with the readers: a burst no reader could drain is not the point
            for _ in range(BATCH):
                published.append(
                    await live.publish(PANTRY_MOVED, {"movement_id": 1, "ingredient": "pan"}, padding=1_000)
                )
            await canary.until_seq("pantry", published[-1])
        for c in clients:
            await c.until_seq("pantry", published[-1])

        assert all(c.seqs("pantry") == published for c in clients)  # all of them, once, in order
        assert await stalled.closed() == TOO_SLOW
        got = stalled.seqs("pantry")
        assert got == published[: len(got)] and len(got) < EVENTS  # what it got before, in order
        assert all(c.close_code is None for c in clients)
