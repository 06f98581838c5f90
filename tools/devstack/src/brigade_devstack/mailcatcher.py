"""The mail catcher `make up` runs: a real SMTP server (aiosmtpd) that accepts every message and keeps
it as an .eml file under `.brigade/mail/`, relays nothing, and answers nobody outside this machine.

Run as its own process (`python -m brigade_devstack.mailcatcher --port 1025 --dir .brigade/mail`),
supervised like PostgreSQL and nats-server: `supervised` gives the devstack its child, restarted on
the same port and folder, so what it caught survives a crash. `make mail` reads the folder
(brigade_devstack.mailbox).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from brigade_common.devservers import DevServerError, port_in_use, wait_started
from brigade_devstack.layout import Layout
from brigade_devstack.servers import ServerChild

HOST = "127.0.0.1"
PORT_ENV = "BRIGADE_MAIL_PORT"
DEFAULT_PORT = 1025


def mail_dir(layout: Layout) -> Path:
    return layout.home / "mail"


class Keeper:
    """The aiosmtpd handler: each accepted message becomes one file, written whole or not at all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seq = itertools.count(1)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 - aiosmtpd's hook
        raw = getattr(envelope, "original_content", None) or getattr(envelope, "content", b"")
        assert isinstance(raw, bytes)
        recipients = ", ".join(getattr(envelope, "rcpt_tos", []))
        # The envelope (who it was really for) as trace headers on top, like a delivering MTA does.
        head = f"X-Brigade-Envelope-From: {getattr(envelope, 'mail_from', '')}\r\n"
        head += f"X-Brigade-Envelope-To: {recipients}\r\n"
        name = f"{time.time_ns()}-{os.getpid()}-{next(self._seq):06d}.eml"
        await asyncio.to_thread(self._keep, name, head.encode() + raw)
        return "250 Message kept"

    def _keep(self, name: str, data: bytes) -> None:
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(self.folder / name)


async def serve(port: int, folder: Path, host: str = HOST) -> None:
    """Serve until SIGTERM or SIGINT."""
    from aiosmtpd.smtp import SMTP

    keeper = Keeper(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(keeper, hostname="brigade-mail-catcher"), host, port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"mail catcher: SMTP on {host}:{port}, keeping mail in {folder}", flush=True)
    async with server:
        await stop.wait()


@dataclass
class MailCatcherServer:
    """The catcher as devservers runs its servers: `start` returns once it accepts connections."""

    folder: Path
    port: int
    log_file: Path | None = None
    host: str = HOST
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = 20.0) -> MailCatcherServer:
        if port_in_use(self.port, self.host):
            raise DevServerError(f"port {self.port} is already taken: cannot start the mail catcher there ({PORT_ENV})")
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
        args = [
            sys.executable,
            "-m",
            "brigade_devstack.mailcatcher",
            "--port",
            str(self.port),
            "--dir",
            str(self.folder),
        ]
        self.proc = subprocess.Popen(args, stdout=out, stderr=out, start_new_session=True)
        wait_started(lambda: port_in_use(self.port, self.host), timeout, "the mail catcher", self.proc)
        return self


def supervised(layout: Layout, port: int) -> Callable[[], ServerChild]:
    """The catcher as a supervised child of `make up`: same port and folder on every restart."""

    def make() -> ServerChild:
        server = MailCatcherServer(mail_dir(layout), port, log_file=layout.log_file("mail"))
        return ServerChild(server, stop_signal=signal.SIGTERM)

    return make


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m brigade_devstack.mailcatcher", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--dir", type=Path, required=True, help="where each message is kept, one .eml file each")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
