"""Real servers for the gateway tests: uvicorn on loopback sockets, and a port nothing listens on."""

from __future__ import annotations

import socket

from brigade_common.testing.serving import serving as running

__all__ = ["closed_port", "running"]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
