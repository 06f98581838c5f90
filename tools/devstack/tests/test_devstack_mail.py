"""The mail catcher of `make up`: a real SMTP server keeping each message under .brigade/mail/,
supervised (restarted on its port, keeping what it caught), the services that send mail pointed at
it, and `make mail` listing and showing what arrived."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from brigade_common.devservers import free_port
from brigade_common.testing.waiting import eventually
from brigade_devstack.__main__ import main
from brigade_devstack.backoff import CrashLoopBackOff
from brigade_devstack.catalog import ServiceSpec, service_table
from brigade_devstack.console import Console
from brigade_devstack.layout import Layout
from brigade_devstack.mailbox import kept
from brigade_devstack.mailcatcher import mail_dir, supervised
from brigade_devstack.stackconfig import resolve
from brigade_devstack.supervised import SupervisedService


def send(port: int, subject: str, to: str = "ana@example.com") -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Brigade <notifications@brigade.local>", to, subject
    msg.set_content("Hello Ana,\n\nplain text")
    msg.add_alternative("<p>Hello <b>Ana</b></p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(msg)


async def test_the_catcher_keeps_what_it_receives_and_is_restarted_with_it_after_a_crash(tmp_path: Path) -> None:
    layout = Layout(root=tmp_path, home=tmp_path / "home")
    layout.logs.mkdir(parents=True)
    port = free_port()
    catcher = SupervisedService(
        "mail",
        supervised(layout, port),
        Console(["mail"], None, stream=io.StringIO()),
        backoff=CrashLoopBackOff(initial=0.05),
        fatal_first_start=True,
    )
    catcher.start()
    try:
        first = await catcher.started()
        await asyncio.to_thread(send, port, "Welcome to Brigade, Ana")
        (message,) = kept(mail_dir(layout))
        assert (message.header("To"), message.header("Subject")) == ("ana@example.com", "Welcome to Brigade, Ana")
        assert message.part("plain") == "Hello Ana,\n\nplain text\n"
        assert message.header("X-Brigade-Envelope-To") == "ana@example.com"

        os.kill(first, signal.SIGKILL)
        await eventually(lambda: catcher.pid not in (None, first), 20, "the catcher restarted")
        await eventually(lambda: catcher.restarts == 1, 5, "one restart")
        await eventually(_accepts(port), 20, "the restarted catcher listening")
        await asyncio.to_thread(send, port, "Ready for payment")
        assert [m.header("Subject") for m in kept(mail_dir(layout))] == ["Welcome to Brigade, Ana", "Ready for payment"]
    finally:
        await catcher.stop(grace=10)


def _accepts(port: int):  # type: ignore[no-untyped-def]
    def check() -> bool:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
                return client.noop()[0] == 250
        except OSError:
            return False

    return check


def test_make_mail_lists_what_arrived_and_shows_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIGADE_HOME", str(tmp_path))
    assert main(["mail"]) == 0
    assert "no mail in" in capsys.readouterr().out
    folder = tmp_path / "mail"
    folder.mkdir()
    raw = (
        b"X-Brigade-Envelope-To: ana@example.com\r\nFrom: Brigade <n@b>\r\nTo: ana@example.com\r\n"
        b"Subject: Order expired\r\nMessage-ID: <abc@b>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\n'
        b"Your order expired.\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>&lt;b&gt;</p>\r\n--x--\r\n"
    )
    (folder / "1764590400000000000-1-000001.eml").write_bytes(raw)
    assert main(["mail"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["#", "received", "(UTC)", "from", "to", "subject"]
    assert listed[1].split()[0] == "1" and listed[1].endswith("ana@example.com  Order expired")
    assert main(["mail", "1"]) == 0
    shown = capsys.readouterr().out
    assert "Subject: Order expired" in shown and "Message-ID: <abc@b>" in shown and "Your order expired." in shown
    assert main(["mail", "1", "--html"]) == 0
    assert "<p>&lt;b&gt;</p>" in capsys.readouterr().out
    assert main(["mail", "2"]) == 1


def test_services_that_send_mail_are_pointed_at_the_catcher_and_only_they() -> None:
    table = [ServiceSpec("notifications", "n", 8006, smtp=True), ServiceSpec("market", "m", 8003)]
    config = resolve(Layout(Path("/r"), Path("/r/.brigade")), table, {"BRIGADE_MAIL_PORT": "2525"}, lambda s: None)
    notifications, market = config.services
    env = config.environment(notifications, {})
    assert (env["NOTIFICATIONS_SMTP_HOST"], env["NOTIFICATIONS_SMTP_PORT"]) == ("127.0.0.1", "2525")
    assert not [k for k in config.environment(market, {}) if "SMTP" in k]
    assert ("the mail catcher", "BRIGADE_MAIL_PORT") in [(c.owner, c.env_var) for c in config.port_claims()]
    assert [s.name for s in service_table() if s.smtp] == ["notifications"], "from the catalog: its settings"
