"""Sending over SMTP with aiosmtplib: each mail as a multipart message (plain text, then HTML) with
the Message-ID the queue gave it, several over one connection.

An attempt's outcome is decided here, once: a server that cannot be reached, is too slow, drops the
connection or answers 4xx is worth another try later; a 5xx answer for a mail is final.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from brigade_common.logging import get_logger
from brigade_notifications.domain.mail import Attempt, Mail, Outcome

log = get_logger(__name__)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    timeout_s: float
    tls: str = "none"  # none, starttls, tls
    username: str | None = None
    password: str | None = None


def message(mail: Mail, sender: str) -> EmailMessage:
    """The RFC 5322 message of `mail` (its `Date` is when it was queued: the same on every attempt)."""
    assert mail.to_address is not None, "only addressed mail is sent"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to_address
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = format_datetime(mail.created_at)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to it
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


def _attempt(exc: Exception) -> Attempt:
    """How a failed step of an attempt counts; never the credentials (no exception here holds them)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        final = bool(codes) and all(code >= 500 for code in codes)
        return Attempt(Outcome.REFUSED if final else Outcome.RETRY, f"recipient refused: {exc.recipients[0]}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Attempt(Outcome.REFUSED if exc.code >= 500 else Outcome.RETRY, f"{exc.code} {exc.message}")
    return Attempt(Outcome.RETRY, f"{type(exc).__name__}: {exc}")


_CONNECTION_LOST = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError, TimeoutError)


class SmtpMailer:
    def __init__(self, server: SmtpServer, sender: str) -> None:
        self._server = server
        self._sender = sender

    def _client(self) -> aiosmtplib.SMTP:
        s = self._server
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout_s,
            use_tls=s.tls == "tls",
            start_tls=s.tls == "starttls",
            username=s.username,
            password=s.password,
        )

    async def send(self, mails: Sequence[Mail]) -> list[Attempt]:
        client = self._client()
        try:
            await client.connect()
        except Exception as exc:  # down, refused, slow, TLS or login failed: every mail waits
            attempt = _attempt(exc)
            log.warning("smtp_unavailable", host=self._server.host, port=self._server.port, error=attempt.error)
            return [attempt] * len(mails)
        results: list[Attempt] = []
        try:
            for mail in mails:
                try:
                    await client.send_message(message(mail, self._sender))
                except _CONNECTION_LOST as exc:
                    # The connection is gone: this mail and the rest of the batch wait for the next try.
                    results += [_attempt(exc)] * (len(mails) - len(results))
                    break
                except aiosmtplib.SMTPException as exc:
                    results.append(_attempt(exc))
                else:
                    results.append(Attempt.sent())
        finally:
            with contextlib.suppress(Exception):
                await client.quit()
        return results
