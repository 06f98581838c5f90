"""The HTTP API: a user's own notifications (another's is a 404), and for staff the mail queue.

Declared routes parse and enforce what they document; the service's errors become problem+json in
one table (`PROBLEMS`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from brigade_common.auth.verifier import Principal
from brigade_common.http import json_response
from brigade_common.messaging import MessageContext
from brigade_common.openapi import OpenAPI
from brigade_common.pagination import TimePageQuery, time_cursor
from brigade_common.problems import Conflict, NotFound, ProblemMapper
from brigade_contracts.auth import Role
from brigade_notifications.domain.errors import MailNotFailed, UnknownMail, UnknownNotification
from brigade_notifications.entrypoints.schemas import (
    MailOut,
    MailPage,
    MailPath,
    MailQuery,
    NotificationOut,
    NotificationPage,
    NotificationPath,
    ReadAllOut,
)
from brigade_notifications.service import commands
from brigade_notifications.service.notifications import NotificationsApp

PREFIX = "/api/notifications"
api = OpenAPI(title="Brigade notifications", version="1.0.0")

PROBLEMS: Mapping[type[Exception], ProblemMapper] = {
    UnknownNotification: lambda e: NotFound(str(e), type="unknown-notification"),
    UnknownMail: lambda e: NotFound(str(e), type="unknown-mail"),
    MailNotFailed: lambda e: Conflict(str(e), type="mail-not-failed"),
}


def _app(request: Request) -> NotificationsApp:
    app: NotificationsApp = request.app.state.notifications
    return app


@api.route(
    "GET",
    f"{PREFIX}/notifications",
    auth=True,
    query=TimePageQuery,
    responses={200: NotificationPage},
    summary="My notifications, newest first (cursor-paginated), with how many are unread",
)
async def list_notifications(request: Request, *, query: TimePageQuery, principal: Principal) -> Response:
    page = await _app(request).views.notifications_of(principal.sub, before=query.before(), limit=query.limit + 1)
    items = page.items[: query.limit]
    nxt = time_cursor(items[-1].created_at, items[-1].id) if len(page.items) > query.limit else None
    return json_response(
        NotificationPage(items=[NotificationOut.of(n) for n in items], next_cursor=nxt, unread=page.unread)
    )


@api.route(
    "POST",
    f"{PREFIX}/notifications/{{notification_id}}/read",
    path_params=NotificationPath,
    auth=True,
    responses={200: NotificationOut, 404: NotFound},
    summary="Mark one of my notifications read (again: no change)",
)
async def mark_read(
    request: Request, *, notification_id: uuid.UUID, principal: Principal, context: MessageContext
) -> Response:
    cmd = commands.MarkRead(principal.sub, str(notification_id))
    return json_response(NotificationOut.of(await _app(request).handle(cmd, context=context)))


@api.route(
    "POST",
    f"{PREFIX}/notifications/read-all",
    auth=True,
    responses={200: ReadAllOut},
    summary="Mark every one of my notifications read",
)
async def mark_all_read(request: Request, *, principal: Principal, context: MessageContext) -> Response:
    marked = await _app(request).handle(commands.MarkAllRead(principal.sub), context=context)
    return json_response(ReadAllOut(marked=marked, unread=0))


@api.route(
    "GET",
    f"{PREFIX}/mail",
    auth=[Role.STAFF.value],
    query=MailQuery,
    responses={200: MailPage},
    summary="Staff: the mail queue, newest first; `status=sent` is the sent-mail log, `status=failed` "
    "the mail given up on",
)
async def list_mail(request: Request, *, query: MailQuery, principal: Principal) -> Response:
    rows = await _app(request).views.mail_log(query.status, before=query.before(), limit=query.limit + 1)
    items = rows[: query.limit]
    nxt = time_cursor(items[-1].created_at, items[-1].id) if len(rows) > query.limit else None
    return json_response(MailPage(items=[MailOut.of(m) for m in items], next_cursor=nxt))


@api.route(
    "POST",
    f"{PREFIX}/mail/{{mail_id}}/retry",
    path_params=MailPath,
    auth=[Role.STAFF.value],
    responses={200: MailOut, 404: NotFound, 409: Conflict},
    summary="Staff: send a failed mail again, with a fresh set of attempts",
)
async def retry_mail(
    request: Request, *, mail_id: uuid.UUID, principal: Principal, context: MessageContext
) -> Response:
    mail = await _app(request).handle(commands.RetryMail(str(mail_id)), context=context)
    return json_response(MailOut.of(mail))
