"""`make mail`: what the mail catcher kept, oldest first, numbered; `make mail ARGS=N` shows one.

make mail                 N, time, from, to, subject of every message
make mail ARGS=3          message 3: its headers and its plain-text part
make mail ARGS="3 --html" its HTML part instead (what a mail client would render)
"""

from __future__ import annotations

import argparse
import email
import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from brigade_devstack.layout import Layout
from brigade_devstack.mailcatcher import mail_dir

SHOWN_HEADERS = ("Date", "From", "To", "Subject", "Message-ID")


@dataclass(frozen=True)
class Kept:
    """One message the catcher kept."""

    number: int
    path: Path
    message: EmailMessage

    @property
    def received(self) -> datetime:
        return datetime.fromtimestamp(int(self.path.name.split("-")[0]) / 1e9, UTC)

    def header(self, name: str) -> str:
        return str(self.message.get(name, ""))

    def part(self, subtype: str) -> str | None:
        body = self.message.get_body(preferencelist=(subtype,))
        if body is None:
            return None
        content: str = body.get_content()
        return content.replace("\r\n", "\n")  # as it came over SMTP: CRLF line ends


def kept(folder: Path) -> list[Kept]:
    """Every message in `folder`, in the order it arrived."""
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    out = []
    for number, path in enumerate(files, start=1):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        out.append(Kept(number, path, message))
    return out


def listing(messages: list[Kept], folder: Path) -> str:
    if not messages:
        return f"no mail in {folder} yet (the catcher keeps what `make up`'s services send)"
    rows = [("#", "received (UTC)", "from", "to", "subject")]
    rows += [
        (str(m.number), m.received.strftime("%Y-%m-%d %H:%M:%S"), m.header("From"), m.header("To"), m.header("Subject"))
        for m in messages
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:4])) + "  " + r[4] for r in rows]
    return (
        "\n".join(line.rstrip() for line in lines)
        + f"\n\n{len(messages)} message(s) in {folder}; make mail ARGS=N shows one"
    )


def show(message: Kept, *, html: bool = False) -> str:
    lines = [f"{name}: {message.header(name)}" for name in SHOWN_HEADERS if message.header(name)]
    lines.append(f"File: {message.path}")
    body = message.part("html" if html else "plain")
    other = "--html for the HTML part" if not html else "without --html for the plain-text part"
    lines += ["", body if body is not None else f"(no {'HTML' if html else 'plain-text'} part)", "", f"({other})"]
    return "\n".join(lines)


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser("mail", help="list the mail the catcher kept, or show one", description=__doc__)
    command.formatter_class = argparse.RawDescriptionHelpFormatter
    command.add_argument("number", nargs="?", type=int, help="the message to show (its # in the list)")
    command.add_argument("--html", action="store_true", help="show its HTML part rather than its plain text")


def run(args: argparse.Namespace, layout: Layout | None = None) -> int:
    folder = mail_dir(layout or Layout.discover())
    messages = kept(folder)
    if args.number is None:
        print(listing(messages, folder))
        return 0
    if not 1 <= args.number <= len(messages):
        print(f"no message {args.number}: there are {len(messages)} (make mail lists them)")
        return 1
    print(show(messages[args.number - 1], html=args.html))
    return 0
