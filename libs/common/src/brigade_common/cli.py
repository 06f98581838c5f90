"""Helpers for every service's `__main__.py`: `python -m brigade_<svc> <command>` and serving the app.

def main() -> int:
    return cli.main({"api": run_api, "worker": run_worker, "migrate": run_migrations})
"""

from __future__ import annotations

import gc
import signal
import socket
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Any

import uvicorn
from starlette.applications import Starlette

Command = Callable[[], int | None]

STARTUP_FAILURE = 3  # uvicorn's exit code when the app cannot start (lifespan startup failed)

# Kubernetes waits 30 s by default between SIGTERM and SIGKILL; finish in-flight requests before that.
DEFAULT_GRACEFUL_TIMEOUT_S = 25.0


def serve(
    app_factory: Callable[[], Starlette],
    *,
    host: str,
    port: int,
    log_level: str = "info",
    graceful_timeout_s: float = DEFAULT_GRACEFUL_TIMEOUT_S,
    reuse_port: bool = False,
    instance_port: int = 0,
) -> None:
    """Run the app under uvicorn until SIGTERM or SIGINT, then shut down gracefully.

    On the signal uvicorn stops accepting connections, lets in-flight requests finish (up to
    `graceful_timeout_s`), then runs the lifespan shutdown, where pools and NATS drain.
    Logging stays as the service configured it (no uvicorn log config, no access log: the
    request middleware logs each request). Forwarded headers are trusted from the addresses in
    `FORWARDED_ALLOW_IPS` (uvicorn's default: 127.0.0.1).

    With `reuse_port`, `port` is bound with SO_REUSEPORT, so that several replicas share it (the
    kernel spreads new connections over them); `instance_port` (non-zero) is a second port, of
    this process alone, serving the same app. Both sockets are bound here, before the app starts,
    so a taken port fails at once, but they only listen once the lifespan startup is done: a
    replica that is still starting gets no connection of the shared port's.
    """
    sockets = _bind(host, port, reuse_port, instance_port)
    app = app_factory()
    # What the imports and the app made lives as long as the process: frozen out of the garbage
    # collector's reach, so that a full collection under load scans only what the requests make.
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        log_level=log_level.lower(),
        access_log=False,
        proxy_headers=True,
        server_header=False,
        # No permessage-deflate on WebSockets: a zlib context per socket doubled the live feed's
        # memory per connection (90 → 41 KiB) and cost a third of its latency at 1000 clients
        # (docs/benchmarks.md, live), to save little on frames of a few hundred bytes.
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=int(graceful_timeout_s) or None,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal after its graceful shutdown; with these no-op handlers in place the
    # process then exits normally (0) instead of dying by the signal half-way through interpreter exit.
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, _after_shutdown) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=sockets)
    finally:
        for sock in sockets or ():
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)


def _bind(host: str, port: int, reuse_port: bool, instance_port: int) -> list[socket.socket] | None:
    """The sockets to serve on, bound and not yet listening; None: let uvicorn bind `host:port`."""
    if not reuse_port and not instance_port:
        return None
    wanted = [(port, reuse_port)] + ([(instance_port, False)] if instance_port else [])
    sockets: list[socket.socket] = []
    try:
        for number, shared in wanted:
            sockets.append(bound_socket(host, number, reuse_port=shared))
    except OSError as exc:
        for sock in sockets:
            sock.close()
        print(f"cannot listen on {host}:{number}: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(STARTUP_FAILURE) from None
    return sockets


def bound_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to `host:port` (SO_REUSEADDR, like uvicorn's own), not listening yet;
    with `reuse_port`, other processes may bind the same port the same way and share its connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _after_shutdown(signum: int, frame: FrameType | None) -> None:
    """Swallow the signal uvicorn re-raises once it has already shut down gracefully."""


def _describe(command: Command) -> str:
    doc = (command.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def usage(commands: Mapping[str, Command], prog: str) -> str:
    """The usage text: one line per command with the first line of its docstring."""
    width = max((len(name) for name in commands), default=0)
    lines = [f"usage: {prog} <command>", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {_describe(cmd)}".rstrip() for name, cmd in commands.items()]
    return "\n".join(lines)


def _prog() -> str:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    if isinstance(name, str) and name:
        return f"python -m {name.removesuffix('.__main__')}"
    return sys.argv[0] if sys.argv and sys.argv[0] else "brigade"


def main(commands: Mapping[str, Command], argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Dispatch `argv[0]` to its command and return the exit code (a command's None means 0).

    `-h`/`--help`/`help` print the usage and return 0; a missing or unknown command prints it to
    stderr and returns 2, as does a command given extra arguments.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    text = usage(commands, prog or _prog())
    if args and args[0] in ("-h", "--help", "help"):
        print(text)
        return 0
    if not args:
        print(text, file=sys.stderr)
        return 2
    name, rest = args[0], args[1:]
    command = commands.get(name)
    if command is None:
        print(f"unknown command {name!r}\n\n{text}", file=sys.stderr)
        return 2
    if rest:
        print(f"command {name!r} takes no arguments (got {' '.join(rest)})\n\n{text}", file=sys.stderr)
        return 2
    result = command()
    return 0 if result is None else int(result)
