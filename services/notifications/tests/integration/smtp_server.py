"""A real SMTP server for the tests (aiosmtpd on the test's own event loop, on a port of its own):
it keeps every message it accepts, parsed, and may require a login."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        content: str = body.get_content()  # type: ignore[attr-defined]
        return content


@dataclass
class SmtpCatcher:
    port: int
    login: tuple[str, str] | None = None
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 OK"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        given = (data.login.decode(), data.password.decode())
        self.logins.append(given)
        return AuthResult(success=given == self.login)

    async def start(self) -> SmtpCatcher:
        def protocol() -> SMTP:
            if self.login is None:
                return SMTP(self, hostname="catcher.test")
            return SMTP(
                self,
                hostname="catcher.test",
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=False,
            )

        self._server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]

    def subjects(self, address: str) -> list[str]:
        return [str(r.message["Subject"]) for r in self.to(address)]
