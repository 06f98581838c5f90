"""Port checks done before anything starts, so a conflict costs one readable line, not a stack trace."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from brigade_devstack.errors import DevstackError

HOST = "127.0.0.1"


@dataclass(frozen=True)
class PortClaim:
    """`owner` wants to listen on `port`; `env_var` moves it elsewhere."""

    port: int
    owner: str
    env_var: str


def is_taken(port: int, host: str = HOST) -> bool:
    """True when something listens on host:port, or the port cannot be bound for another reason."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.3)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Servers set SO_REUSEADDR, so a socket lingering in TIME_WAIT does not count as taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def conflicts(claims: Iterable[PortClaim]) -> list[str]:
    """One message per claim that cannot be satisfied (duplicate or already taken)."""
    messages: list[str] = []
    seen: dict[int, PortClaim] = {}
    for claim in claims:
        first = seen.setdefault(claim.port, claim)
        if first is not claim:
            messages.append(
                f"port {claim.port} is wanted by both {first.owner} and {claim.owner}: "
                f"set {claim.env_var} to another port"
            )
        elif is_taken(claim.port):
            messages.append(
                f"port {claim.port} is already in use, but {claim.owner} needs it: "
                f"stop whatever listens there or set {claim.env_var} to another port"
            )
    return messages


def require_free(claims: Iterable[PortClaim]) -> None:
    """Raise with every conflict at once (exit code 2) when any port is unavailable."""
    messages = conflicts(claims)
    if messages:
        raise DevstackError("\n".join(messages), exit_code=2)
