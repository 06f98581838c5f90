"""The service as its entrypoints use it: every use case with its unit of work, and the read side."""

from __future__ import annotations

from typing import Any

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_notifications.service.handlers import HANDLERS, Deps
from brigade_notifications.service.ports import NotificationViews, UnitOfWorkFactory


class NotificationsApp:
    def __init__(self, *, uow: UnitOfWorkFactory, views: NotificationViews, deps: Deps) -> None:
        self.views = views
        self.deps = deps
        self._uow = uow

    async def handle(self, cmd: Any, *, context: MessageContext, inbox: InboxEntry | None = None) -> Any:
        """Run the use case of `cmd` in a unit of work of its own."""
        return await HANDLERS[type(cmd)](cmd, self._uow(context, inbox), self.deps)
