"""Wires the service: runtime (database, NATS), its adapters, the use cases, the consumers, the
mail sender and the HTTP app. Nothing here decides anything; nothing opens at import time."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette

from brigade_common.auth.keysource import LateConnection
from brigade_common.health import ReadinessChecks
from brigade_common.logging import get_logger
from brigade_common.runtime import Runtime
from brigade_common.service_app import service_app
from brigade_notifications.adapters.smtp import SmtpMailer, SmtpServer
from brigade_notifications.adapters.templates import JinjaRenderer
from brigade_notifications.adapters.unit_of_work import PostgresNotificationsUnitOfWork
from brigade_notifications.adapters.views import PostgresNotificationViews
from brigade_notifications.config import SERVICE, Settings
from brigade_notifications.definition import NOTIFICATIONS
from brigade_notifications.domain.mail import Mail, MailStatus, RetryPolicy
from brigade_notifications.entrypoints.consumers import consumer_specs
from brigade_notifications.entrypoints.http import PROBLEMS, api
from brigade_notifications.service.handlers import Deps
from brigade_notifications.service.notifications import NotificationsApp
from brigade_notifications.service.sender import SENDER, MailSender, SenderOptions

log = get_logger(__name__)
# How often mail still waiting for its recipient's address is looked at (and given up on when old).
UNADDRESSED_SWEEP_S = 60.0


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


def _settled(mail: Mail) -> None:
    if mail.status is MailStatus.SENT:
        log.info("mail_sent", mail_id=mail.id, message_id=mail.message_id, attempts=mail.attempts)
    elif mail.status is MailStatus.FAILED:
        log.error("mail_given_up", mail_id=mail.id, attempts=mail.attempts, error=mail.last_error)
    else:
        log.warning(
            "mail_attempt_failed",
            mail_id=mail.id,
            attempts=mail.attempts,
            retry_at=str(mail.next_attempt_at),
            error=mail.last_error,
        )


def _round_failed(exc: Exception) -> None:
    log.warning("mail_round_failed", error=repr(exc))


def sender_options(settings: Settings) -> SenderOptions:
    # A claimed batch is leased for as long as sending it could take (each of the few SMTP steps of
    # each mail on one connection may take the timeout), so no other replica takes it meanwhile.
    per_connection = math.ceil(settings.mail_batch / settings.mail_connections)
    return SenderOptions(
        policy=RetryPolicy(settings.mail_max_attempts, settings.mail_backoff_s, settings.mail_backoff_max_s),
        batch=settings.mail_batch,
        connections=settings.mail_connections,
        lease_s=settings.smtp_timeout_s * (4 + 2 * per_connection) + 30,
        address_wait_s=settings.mail_address_wait_s,
    )


def mailer(settings: Settings) -> SmtpMailer:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    server = SmtpServer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_timeout_s,
        settings.smtp_tls,
        settings.smtp_username,
        password,
    )
    return SmtpMailer(server, settings.mail_from)


@asynccontextmanager
async def open_notifications(
    settings: Settings, readiness: ReadinessChecks | None = None, connection: LateConnection | None = None
) -> AsyncIterator[NotificationsApp]:
    """The service with everything it runs on, until the context exits."""
    runtime = await Runtime.open(NOTIFICATIONS, settings, readiness)
    if connection is not None:
        connection.nc = runtime.nc  # the verifier asks the auth service for its keys over it
    try:
        plain = PostgresNotificationsUnitOfWork.on(runtime.db)
        sender = MailSender(
            lambda: plain(SENDER, None),
            mailer(settings),
            clock=_now,
            options=sender_options(settings),
            on_settled=_settled,
        )
        app = NotificationsApp(
            uow=PostgresNotificationsUnitOfWork.on(runtime.db, on_mail=sender.notify, on_commit=runtime.notify_outbox),
            views=PostgresNotificationViews(runtime.db),
            deps=Deps(
                clock=_now,
                new_id=_new_id,
                renderer=JinjaRenderer(settings.public_url),
                mail_domain=settings.mail_domain,
            ),
        )
        await runtime.run_consumers(consumer_specs(app, settings))
        runtime.spawn(sender.run(settings.mail_poll_s, _round_failed), "mail-sender")
        runtime.every(UNADDRESSED_SWEEP_S, sender.give_up_unaddressed, "give-up-unaddressed-mail")
        yield app
    finally:
        await runtime.close()


def create_app(settings: Settings) -> Starlette:
    return service_app(
        SERVICE,
        api,
        lambda readiness, connection: open_notifications(settings, readiness, connection),
        state="notifications",
        verifier=settings.jwt_verifier,
        problems=PROBLEMS,
    )
